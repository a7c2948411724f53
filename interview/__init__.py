"""Every face of pnman: the command line, the renderers and the questionnaire."""
