"""Plan warnings as values, with their wording in French and English.

A warning says where the guide's own figures are inconsistent or missing, or where the
plan had to do without something, and always names the figures it is about.
"""
from __future__ import annotations

from dataclasses import dataclass


def da(amount: int) -> str:
    """An amount the French way: 1 850 000 DA HT."""
    return f"{amount:,}".replace(",", " ") + " DA HT"


@dataclass(frozen=True)
class Warning:  # noqa: A001 - the domain's word; never confused with the builtin inside pnman
    code: str
    fiche: int | None
    message: str
    figures: dict | None = None

    def as_dict(self) -> dict:
        out = {"code": self.code, "fiche": self.fiche, "message": self.message}
        if self.figures:
            out["figures"] = self.figures
        return out


TEMPLATES = {
    "missing_size_figure": {
        "fr": "Fiche {fiche} ({part}) : le guide n’imprime aucun nombre de jours pour la classe {size} ; "
              "le chiffre de la classe {used} ({text}) est repris à titre indicatif.",
        "en": "Fiche {fiche} ({part}): the guide prints no number of days for size class {size}; "
              "the {used} figure ({text}) is used as an indication.",
    },
    "total_mismatch": {
        "fr": "Fiche {fiche}, classe {size} : le total imprimé ({total}) n’est pas la somme des lignes ({lines}) ; "
              "le plan retient la fourchette {low} – {high}.",
        "en": "Fiche {fiche}, size class {size}: the printed total ({total}) is not the sum of its lines ({lines}); "
              "the plan keeps the range {low} – {high}.",
    },
    "unknown_status": {
        "fr": "Fiche {fiche} : statut inconnu ; faits à préciser : {facts}.",
        "en": "Fiche {fiche}: unknown status; facts to confirm: {facts}.",
    },
    "preparation_ineligible": {
        "fr": "La fiche de préparation {prep} n’est pas accessible à l’entreprise ({failing}) : "
              "la fiche {fiche} est planifiée sans elle.",
        "en": "Preparation fiche {prep} is not open to the company ({failing}): fiche {fiche} is planned without it.",
    },
    "goal_ineligible": {
        "fr": "Fiche {fiche} demandée ({rule}) mais inéligible : {failing}.",
        "en": "Fiche {fiche} requested ({rule}) but ineligible: {failing}.",
    },
    "workstation_limit": {
        "fr": "L’entreprise veut introduire {wanted} postes ; l’équipement de démarrage est limité à {cap} "
              "ordinateurs pour la classe {size} (« {text} »).",
        "en": "The company wants {wanted} workstations; the starter equipment is limited to {cap} computers "
              "for size class {size} (« {text} »).",
    },
    "contradictory_facts": {
        "fr": "Le profil se contredit sur « {fact} » (déclaré : {stated}, déduit : {implied} par {rule}) ; "
              "la valeur déclarée est retenue.",
        "en": "The profile contradicts itself on '{fact}' (stated: {stated}, implied: {implied} by {rule}); "
              "the stated value is kept.",
    },
}


def warning(code: str, fiche: int | None, lang: str, figures: dict | None = None, **fields) -> Warning:
    template = TEMPLATES[code].get(lang) or TEMPLATES[code]["fr"]
    return Warning(code, fiche, template.format(fiche=fiche, **fields), figures)
