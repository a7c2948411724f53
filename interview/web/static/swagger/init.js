// The API page of `pnman serve`: Swagger UI on the server's own OpenAPI document.
// A file, not an inline script, so that the Content-Security-Policy stays `script-src 'self'`.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({ url: "openapi.json", dom_id: "#swagger-ui", deepLinking: true });
});
