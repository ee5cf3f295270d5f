"""What a data steward is told: every validation rule's message and hint in es, pt and en.

Each rule is written once here, keyed by its machine-readable code. Findings are stored
with their rule code and parameters, so the same finding can be phrased in any language
later (the steward's report, the committee's report, the CLI).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

logger = logging.getLogger(__name__)

Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Rule:
    severity: Severity
    message: dict[str, str]
    hint: dict[str, str]


def _r(severity: Severity, es: str, pt: str, en: str, hes: str, hpt: str, hen: str) -> Rule:
    return Rule(severity, {"es": es, "pt": pt, "en": en}, {"es": hes, "pt": hpt, "en": hen})


RULES: dict[str, Rule] = {
    # -- the file as a whole ------------------------------------------------------------
    "unreadable_file": _r(
        "error",
        "No se pudo leer el archivo: {reason}.",
        "Não foi possível ler o arquivo: {reason}.",
        "The file could not be read: {reason}.",
        "Envíe un archivo XLSX, CSV o JSON generado con `ideal template`.",
        "Envie um arquivo XLSX, CSV ou JSON gerado com `ideal template`.",
        "Send an XLSX, CSV or JSON file made from the `ideal template` template.",
    ),
    "no_header": _r(
        "error",
        "No se encontró la fila de encabezados (país, periodo, indicador, valor…).",
        "Não foi encontrada a linha de cabeçalho (país, período, indicador, valor…).",
        "No header row was found (country, period, indicator, value…).",
        "La primera fila de datos debe llevar los nombres de columna de la plantilla.",
        "A primeira linha de dados deve trazer os nomes de coluna do modelo.",
        "Put the template's column names in the row above the data.",
    ),
    "missing_column": _r(
        "error",
        "Falta la columna obligatoria «{column}».",
        "Falta a coluna obrigatória «{column}».",
        "The required column '{column}' is missing.",
        "Agregue la columna «{column}» con el nombre de la plantilla.",
        "Adicione a coluna «{column}» com o nome do modelo.",
        "Add the column '{column}' with the name used in the template.",
    ),
    "unknown_column": _r(
        "warning",
        "La columna «{column}» no es parte de la plantilla y se ignoró.",
        "A coluna «{column}» não faz parte do modelo e foi ignorada.",
        "The column '{column}' is not part of the template and was ignored.",
        "Si contiene datos, muévalos a una columna de la plantilla o a «notas».",
        "Se contém dados, mova-os para uma coluna do modelo ou para «observações».",
        "If it holds data, move it to a template column or to 'notes'.",
    ),
    "no_data_rows": _r(
        "error",
        "El archivo no contiene filas de datos.",
        "O arquivo não contém linhas de dados.",
        "The file has no data rows.",
        "Complete al menos una fila bajo los encabezados.",
        "Preencha pelo menos uma linha abaixo dos cabeçalhos.",
        "Fill in at least one row below the header.",
    ),
    "multiple_countries": _r(
        "error",
        "El archivo mezcla varios países ({countries}); se espera uno por archivo.",
        "O arquivo mistura vários países ({countries}); espera-se um por arquivo.",
        "The file mixes several countries ({countries}); one country per file is expected.",
        "Envíe un archivo por país.",
        "Envie um arquivo por país.",
        "Send one file per country.",
    ),
    "country_not_expected": _r(
        "warning",
        "{country} no figura entre los países esperados en el ciclo {cycle}.",
        "{country} não consta entre os países esperados no ciclo {cycle}.",
        "{country} is not among the countries expected in cycle {cycle}.",
        "Verifique el país o pida a la secretaría que lo añada al ciclo.",
        "Verifique o país ou peça à secretaria que o inclua no ciclo.",
        "Check the country, or ask the secretariat to add it to the cycle.",
    ),
    "indicator_not_reported": _r(
        "warning",
        "No se informó el indicador {indicator} ({name_es}).",
        "O indicador {indicator} ({name_pt}) não foi informado.",
        "The indicator {indicator} ({name_en}) was not reported.",
        "Agregue una fila con su valor, o «n/d» con una nota si no está disponible.",
        "Adicione uma linha com o valor, ou «n/d» com uma observação se não houver.",
        "Add a row with its value, or 'n/d' with a note if it is not available.",
    ),
    # -- one cell ---------------------------------------------------------------------
    "required": _r(
        "error",
        "Falta el valor de «{column}».",
        "Falta o valor de «{column}».",
        "'{column}' is empty.",
        "Complete la celda.",
        "Preencha a célula.",
        "Fill in the cell.",
    ),
    "unknown_country": _r(
        "error",
        "«{value}» no es un país reconocido.",
        "«{value}» não é um país reconhecido.",
        "'{value}' is not a recognised country.",
        "Use el código ISO de tres letras (p. ej. PER) o el nombre del país.",
        "Use o código ISO de três letras (p. ex. BRA) ou o nome do país.",
        "Use the three-letter ISO code (e.g. PER) or the country's name.",
    ),
    "invalid_period": _r(
        "error",
        "«{value}» no es un periodo válido.",
        "«{value}» não é um período válido.",
        "'{value}' is not a valid period.",
        "Escriba el año (2025) o el trimestre (2025-T1).",
        "Escreva o ano (2025) ou o trimestre (2025-T1).",
        "Write the year (2025) or the quarter (2025-Q1).",
    ),
    "period_outside_cycle": _r(
        "error",
        "El periodo {value} no corresponde al ciclo {cycle} (año {year}).",
        "O período {value} não corresponde ao ciclo {cycle} (ano {year}).",
        "The period {value} does not belong to cycle {cycle} (year {year}).",
        "Informe sólo datos del año {year}.",
        "Informe apenas dados do ano {year}.",
        "Report only data for {year}.",
    ),
    "future_period": _r(
        "error",
        "El periodo {value} todavía no ha terminado.",
        "O período {value} ainda não terminou.",
        "The period {value} has not ended yet.",
        "Informe sólo periodos cerrados.",
        "Informe apenas períodos encerrados.",
        "Report only periods that have ended.",
    ),
    "unknown_indicator": _r(
        "error",
        "«{value}» no es un código de indicador del catálogo.",
        "«{value}» não é um código de indicador do catálogo.",
        "'{value}' is not an indicator code of the catalogue.",
        "Elija el código de la lista desplegable de la plantilla.",
        "Escolha o código na lista suspensa do modelo.",
        "Pick the code from the template's drop-down list.",
    ),
    "not_a_number": _r(
        "error",
        "«{value}» no es un número.",
        "«{value}» não é um número.",
        "'{value}' is not a number.",
        "Escriba sólo cifras (p. ej. 1234,5), «n/d» si falta, o «<5» si está suprimido.",
        "Escreva apenas algarismos (p. ex. 1234,5), «n/d» se faltar, ou «<5» se suprimido.",
        "Write digits only (e.g. 1234.5), 'n/d' if missing, or '<5' if suppressed.",
    ),
    "negative_value": _r(
        "error",
        "El valor {value} es negativo.",
        "O valor {value} é negativo.",
        "The value {value} is negative.",
        "Los conteos, pesos y superficies no pueden ser negativos.",
        "Contagens, pesos e áreas não podem ser negativos.",
        "Counts, weights and areas cannot be negative.",
    ),
    "not_finite": _r(
        "error",
        "El valor «{value}» no es un número finito.",
        "O valor «{value}» não é um número finito.",
        "The value '{value}' is not a finite number.",
        "Escriba una cifra real, o «n/d» si no está disponible.",
        "Escreva um número real, ou «n/d» se não houver.",
        "Write a real figure, or 'n/d' if it is not available.",
    ),
    "out_of_scale": _r(
        "error",
        "La valoración {value} está fuera de la escala {low}–{high}.",
        "A avaliação {value} está fora da escala {low}–{high}.",
        "The rating {value} is outside the {low}–{high} scale.",
        "Las valoraciones expertas van de {low} (mínima) a {high} (máxima).",
        "As avaliações especializadas vão de {low} (mínima) a {high} (máxima).",
        "Expert ratings run from {low} (lowest) to {high} (highest).",
    ),
    "incompatible_unit": _r(
        "error",
        "La unidad «{value}» no es compatible con {indicator}, que se mide en {expected}.",
        "A unidade «{value}» não é compatível com {indicator}, medido em {expected}.",
        "The unit '{value}' does not fit {indicator}, which is measured in {expected}.",
        "Informe el valor en {expected} (o una unidad convertible).",
        "Informe o valor em {expected} (ou uma unidade conversível).",
        "Report the value in {expected} (or a convertible unit).",
    ),
    "invalid_reliability": _r(
        "error",
        "«{value}» no es una fiabilidad de fuente válida.",
        "«{value}» não é uma confiabilidade de fonte válida.",
        "'{value}' is not a valid source reliability.",
        "Use una letra de A (totalmente fiable) a F (no se puede juzgar).",
        "Use uma letra de A (totalmente confiável) a F (não pode ser avaliada).",
        "Use a letter from A (completely reliable) to F (cannot be judged).",
    ),
    "invalid_credibility": _r(
        "error",
        "«{value}» no es una credibilidad válida.",
        "«{value}» não é uma credibilidade válida.",
        "'{value}' is not a valid information credibility.",
        "Use una cifra de 1 (confirmada) a 6 (no se puede juzgar).",
        "Use um algarismo de 1 (confirmada) a 6 (não pode ser avaliada).",
        "Use a digit from 1 (confirmed) to 6 (cannot be judged).",
    ),
    "invalid_trend": _r(
        "error",
        "«{value}» no es una tendencia válida.",
        "«{value}» não é uma tendência válida.",
        "'{value}' is not a valid trend.",
        "Use «sube», «estable» o «baja».",
        "Use «sobe», «estável» ou «desce».",
        "Use 'up', 'stable' or 'down'.",
    ),
    "text_too_long": _r(
        "error",
        "El texto de «{column}» supera {limit} caracteres.",
        "O texto de «{column}» passa de {limit} caracteres.",
        "The text in '{column}' is longer than {limit} characters.",
        "Resuma el texto.",
        "Resuma o texto.",
        "Shorten the text.",
    ),
    "duplicate_row": _r(
        "error",
        "Fila repetida: {indicator} para {period} ya figura en la fila {first_row}.",
        "Linha repetida: {indicator} para {period} já consta na linha {first_row}.",
        "Duplicate row: {indicator} for {period} is already on row {first_row}.",
        "Deje una sola fila por indicador y periodo.",
        "Deixe uma única linha por indicador e período.",
        "Keep one row per indicator and period.",
    ),
    "mixed_periods": _r(
        "error",
        "{indicator} se informa a la vez por año y por trimestre.",
        "{indicator} é informado ao mesmo tempo por ano e por trimestre.",
        "{indicator} is reported both for the year and by quarter.",
        "Informe el año completo o los cuatro trimestres, no ambos.",
        "Informe o ano completo ou os quatro trimestres, não ambos.",
        "Report either the whole year or the four quarters, not both.",
    ),
    # -- warnings on values -------------------------------------------------------------
    "unit_converted": _r(
        "warning",
        "Se convirtió {value} {unit} a {converted} {expected}.",
        "{value} {unit} foi convertido em {converted} {expected}.",
        "{value} {unit} was converted to {converted} {expected}.",
        "Para evitarlo, informe en {expected}.",
        "Para evitar isso, informe em {expected}.",
        "To avoid this, report in {expected}.",
    ),
    "implausible_value": _r(
        "warning",
        "El valor {value} de {indicator} está fuera del rango plausible ({low}–{high}).",
        "O valor {value} de {indicator} está fora da faixa plausível ({low}–{high}).",
        "The value {value} for {indicator} is outside the plausible range ({low}–{high}).",
        "Verifique la cifra (¿un cero de más? ¿la unidad?). Si es correcta, explíquelo en notas.",
        "Verifique o número (um zero a mais? a unidade?). Se correto, explique em observações.",
        "Check the figure (an extra zero? the unit?). If it is right, explain in the notes.",
    ),
    "value_missing": _r(
        "warning",
        "{indicator}: valor declarado no disponible («{value}»).",
        "{indicator}: valor declarado indisponível («{value}»).",
        "{indicator}: value declared not available ('{value}').",
        "Si el dato existe, complételo; si no, explique el motivo en notas.",
        "Se o dado existir, preencha-o; se não, explique o motivo em observações.",
        "If the figure exists, fill it in; if not, give the reason in the notes.",
    ),
    "censored_value": _r(
        "warning",
        "{indicator}: valor suprimido «{value}»; se usa la mitad de la cota ({used}).",
        "{indicator}: valor suprimido «{value}»; usa-se metade do limite ({used}).",
        "{indicator}: suppressed value '{value}'; half the bound ({used}) is used.",
        "Si puede, informe la cifra exacta.",
        "Se puder, informe o número exato.",
        "If you can, report the exact figure.",
    ),
    "incomplete_quarters": _r(
        "warning",
        "{indicator}: sólo se informaron {n} de 4 trimestres; el total anual se estima.",
        "{indicator}: só foram informados {n} de 4 trimestres; o total anual é estimado.",
        "{indicator}: only {n} of 4 quarters were reported; the annual total is estimated.",
        "Informe los cuatro trimestres o el total anual.",
        "Informe os quatro trimestres ou o total anual.",
        "Report all four quarters, or the annual total.",
    ),
    "trend_ignored": _r(
        "warning",
        "La tendencia sólo se usa en las valoraciones expertas; se ignoró en {indicator}.",
        "A tendência só é usada nas avaliações especializadas; ignorada em {indicator}.",
        "A trend is only used for expert ratings; it was ignored for {indicator}.",
        "Deje vacía la columna de tendencia en esta fila.",
        "Deixe vazia a coluna de tendência nesta linha.",
        "Leave the trend cell of this row empty.",
    ),
    "missing_source": _r(
        "warning",
        "Falta la fuente del dato.",
        "Falta a fonte do dado.",
        "The source of the figure is missing.",
        "Indique la institución que produjo la cifra.",
        "Indique a instituição que produziu o número.",
        "Name the institution that produced the figure.",
    ),
}


def format_issue(rule: str, params: dict[str, object], lang: str) -> tuple[str, str]:
    """The (message, hint) of a finding in ``lang`` (es, pt or en; others fall back to en)."""
    spec = RULES.get(rule)
    if spec is None:  # a rule stored by a newer version: say so rather than fail
        logger.warning("unknown rule code %r", rule)
        return (f"{rule}: {params}", "")
    lang = lang if lang in spec.message else "en"
    params = dict(params)
    reason = params.get("reason")
    if isinstance(reason, str) and reason in REASONS:
        params["reason"] = REASONS[reason][lang]
    column = params.get("column")
    if isinstance(column, str):
        from ideal.contract import column_headers  # late: contract is heavier than messages

        params["column"] = column_headers(lang).get(column, column)
    safe = _SafeDict({k: _display(v, lang) for k, v in params.items()})
    hint = spec.hint[lang].format_map(safe)
    if params.get("suggestion"):
        hint += " " + _DID_YOU_MEAN[lang].format(params["suggestion"])
    return spec.message[lang].format_map(safe), hint


REASONS: dict[str, dict[str, str]] = {
    "empty": {
        "es": "el archivo está vacío",
        "pt": "o arquivo está vazio",
        "en": "the file is empty",
    },
    "binary": {
        "es": "no es un archivo de texto, XLSX ni JSON",
        "pt": "não é um arquivo de texto, XLSX nem JSON",
        "en": "it is not a text, XLSX or JSON file",
    },
    "encrypted_or_xls": {
        "es": "está protegido con contraseña o es un .xls antiguo; "
        "guárdelo como .xlsx sin contraseña",
        "pt": "está protegido por senha ou é um .xls antigo; salve-o como .xlsx sem senha",
        "en": "it is password-protected or an old .xls; save it as .xlsx without a password",
    },
    "zip_bomb": {
        "es": "su contenido descomprimido es anormalmente grande",
        "pt": "seu conteúdo descompactado é anormalmente grande",
        "en": "its uncompressed content is abnormally large",
    },
    "bad_xlsx": {
        "es": "no es un libro de Excel válido",
        "pt": "não é uma pasta de trabalho do Excel válida",
        "en": "it is not a valid Excel workbook",
    },
    "bad_json": {
        "es": "no es un JSON válido con una lista «rows»",
        "pt": "não é um JSON válido com uma lista «rows»",
        "en": "it is not valid JSON with a 'rows' list",
    },
    "bad_csv": {
        "es": "el CSV está mal formado",
        "pt": "o CSV está mal formado",
        "en": "the CSV is malformed",
    },
    "too_large": {
        "es": "supera el tamaño máximo admitido",
        "pt": "excede o tamanho máximo aceito",
        "en": "it exceeds the maximum accepted size",
    },
    "no_header": {
        "es": "no tiene la fila de encabezados de la plantilla (país, periodo, indicador, valor…)",
        "pt": "não tem a linha de cabeçalho do modelo (país, período, indicador, valor…)",
        "en": "it has no template header row (country, period, indicator, value…)",
    },
}
"""Why a file is unreadable, by reason code (``ideal.readers.UnreadableFile.reason``)."""

_DID_YOU_MEAN = {"es": "¿Quiso decir {}?", "pt": "Quis dizer {}?", "en": "Did you mean {}?"}


def _display(value: object, lang: str) -> str:
    # Only floats are quantities; ints here are years, rows and counts of rows.
    if not isinstance(value, float):
        return str(value)
    from babel.numbers import format_decimal  # late: only when a message is phrased

    return str(format_decimal(value, locale=BABEL_LOCALES.get(lang, "en")))


BABEL_LOCALES = {"es": "es", "pt": "pt_BR", "en": "en"}
"""Babel locale used to format numbers and dates in each working language."""


class _SafeDict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""
