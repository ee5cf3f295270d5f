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
    "beyond_hard_limit": _r(
        "error",
        "El valor {value} supera {limit}, el máximo posible para este indicador.",
        "O valor {value} excede {limit}, o máximo possível para este indicador.",
        "The value {value} exceeds {limit}, the most this indicator can be.",
        "Revise la cifra: parece tener dígitos de más o estar en otra unidad.",
        "Revise o número: parece ter dígitos a mais ou estar em outra unidade.",
        "Check the figure: it looks like extra digits or another unit.",
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
    "value_jump": _r(
        "warning",
        "{indicator}: el valor anual ({annual}) cambió más de {ratio} veces respecto al ciclo "
        "anterior ({previous}).",
        "{indicator}: o valor anual ({annual}) mudou mais de {ratio} vezes em relação ao ciclo "
        "anterior ({previous}).",
        "{indicator}: the annual value ({annual}) changed more than {ratio}-fold from the "
        "previous cycle ({previous}).",
        "Verifique la cifra y la unidad. Si el cambio es real, explíquelo en notas.",
        "Verifique o número e a unidade. Se a mudança for real, explique em observações.",
        "Check the figure and the unit. If the change is real, explain it in the notes.",
    ),
    # -- event records (issue 3) --------------------------------------------------------
    "invalid_date": _r(
        "error",
        "«{value}» no es una fecha válida.",
        "«{value}» não é uma data válida.",
        "'{value}' is not a valid date.",
        "Escriba la fecha como 14/03/2025 (día/mes/año) o 2025-03-14.",
        "Escreva a data como 14/03/2025 (dia/mês/ano) ou 2025-03-14.",
        "Write the date as 14/03/2025 (day/month/year) or 2025-03-14.",
    ),
    "future_date": _r(
        "error",
        "La fecha {value} está en el futuro.",
        "A data {value} está no futuro.",
        "The date {value} is in the future.",
        "Verifique el día, el mes y el año (¿día y mes invertidos?).",
        "Verifique o dia, o mês e o ano (dia e mês invertidos?).",
        "Check the day, month and year (day and month swapped?).",
    ),
    "date_outside_cycle": _r(
        "error",
        "La fecha {value} no corresponde al ciclo {cycle} (año {year}).",
        "A data {value} não corresponde ao ciclo {cycle} (ano {year}).",
        "The date {value} does not belong to cycle {cycle} (year {year}).",
        "Informe sólo eventos ocurridos en {year}.",
        "Informe apenas eventos ocorridos em {year}.",
        "Report only events that happened in {year}.",
    ),
    "unknown_event_type": _r(
        "error",
        "«{value}» no es un tipo de evento del catálogo.",
        "«{value}» não é um tipo de evento do catálogo.",
        "'{value}' is not an event type of the catalogue.",
        "Use «incautación», «incidente» o «víctima» (o seizure, incident, victim).",
        "Use «apreensão», «ocorrência» ou «vítima» (ou seizure, incident, victim).",
        "Use 'seizure', 'incident' or 'victim'.",
    ),
    "unknown_item": _r(
        "error",
        "«{value}» no es un elemento del catálogo de eventos.",
        "«{value}» não é um item do catálogo de eventos.",
        "'{value}' is not an item of the event catalogue.",
        "Elija el elemento de la lista de la plantilla (p. ej. cocaína, armas de fuego).",
        "Escolha o item na lista do modelo (p. ex. cocaína, armas de fogo).",
        "Pick the item from the template's list (e.g. cocaine, firearms).",
    ),
    "item_not_allowed": _r(
        "error",
        "El elemento {value} no corresponde a un evento de tipo {event_type}.",
        "O item {value} não corresponde a um evento do tipo {event_type}.",
        "The item {value} does not belong to an event of type {event_type}.",
        "Para {event_type} use uno de: {allowed}; o corrija el tipo de evento.",
        "Para {event_type} use um destes: {allowed}; ou corrija o tipo de evento.",
        "For {event_type} use one of: {allowed}; or correct the event type.",
    ),
    "invalid_quantity": _r(
        "error",
        "«{value}» no es una cantidad.",
        "«{value}» não é uma quantidade.",
        "'{value}' is not a quantity.",
        "Escriba la cantidad en cifras (p. ej. 1234,5); cada evento lleva una: "
        "1 por víctima o incidente.",
        "Escreva a quantidade em algarismos (p. ex. 1234,5); cada evento tem uma: "
        "1 por vítima ou ocorrência.",
        "Write the quantity in digits (e.g. 1234.5); every event has one: "
        "1 for one victim or incident.",
    ),
    # -- many rows with the same finding (ideal.validation.RowFindings) ----------------
    "more_errors": _r(
        "error",
        "Otras {count} filas tienen el mismo error ({like}) en la columna {column} que la "
        "fila {first_row}; se listan solo las primeras {shown}.",
        "Outras {count} linhas têm o mesmo erro ({like}) na coluna {column} que a linha "
        "{first_row}; são listadas só as primeiras {shown}.",
        "{count} more rows have the same error ({like}) in column {column} as row "
        "{first_row}; only the first {shown} are listed.",
        "Un mismo error en tantas filas suele tener una sola causa (p. ej. fechas escritas "
        "mes/día/año): corríjala en toda la columna y verifique de nuevo.",
        "Um mesmo erro em tantas linhas costuma ter uma só causa (p. ex. datas escritas "
        "mês/dia/ano): corrija-a em toda a coluna e verifique novamente.",
        "One error on so many rows usually has one cause (e.g. dates written "
        "month/day/year): fix it in the whole column and validate again.",
    ),
    "more_warnings": _r(
        "warning",
        "Otras {count} filas tienen la misma advertencia ({like}) en la columna {column} "
        "que la fila {first_row}; se listan solo las primeras {shown}.",
        "Outras {count} linhas têm o mesmo aviso ({like}) na coluna {column} que a linha "
        "{first_row}; são listadas só as primeiras {shown}.",
        "{count} more rows have the same warning ({like}) in column {column} as row "
        "{first_row}; only the first {shown} are listed.",
        "Revise las filas listadas: si la advertencia es correcta para todas, no hace "
        "falta corregir nada.",
        "Revise as linhas listadas: se o aviso estiver correto para todas, não é preciso "
        "corrigir nada.",
        "Check the rows listed: if the warning holds for all of them, nothing needs fixing.",
    ),
    # -- event files as a whole (schemas/quality_rules.yaml) ---------------------------
    "duplicate_event": _r(
        "warning",
        "Posible evento repetido: {name_es} del {date}, fila {first_row}, figura {copies} "
        "vez/veces más con los mismos datos, en las filas {rows}.",
        "Possível evento repetido: {name_pt} de {date}, linha {first_row}, consta mais "
        "{copies} vez(es) com os mesmos dados, nas linhas {rows}.",
        "Possible repeated event: {name_en} on {date}, row {first_row}, appears {copies} "
        "more time(s) with the same details, on rows {rows}.",
        "Si es el mismo evento, borre las filas repetidas para que no se cuente más de una "
        "vez; si son eventos distintos (p. ej. dos incautaciones del mismo operativo), "
        "diferéncielos en notas.",
        "Se for o mesmo evento, apague as linhas repetidas para que não seja contado mais "
        "de uma vez; se forem eventos distintos (p. ex. duas apreensões da mesma operação), "
        "diferencie-os em observações.",
        "If it is the same event, delete the repeated rows so it is not counted more than "
        "once; if they are different events (e.g. two seizures in one operation), tell "
        "them apart in the notes.",
    ),
    "duplicate_event_more": _r(
        "warning",
        "Hay {groups} grupos más de filas repetidas que no se listan; se muestran los "
        "primeros {shown}.",
        "Há mais {groups} grupos de linhas repetidas que não são listados; são mostrados "
        "os primeiros {shown}.",
        "{groups} more groups of repeated rows are not listed; the first {shown} are shown.",
        "Tantas repeticiones suelen indicar que el registro se pegó más de una vez en el "
        "archivo: revíselo, corríjalo y verifíquelo de nuevo.",
        "Tantas repetições costumam indicar que o registro foi colado mais de uma vez no "
        "arquivo: revise-o, corrija-o e verifique-o novamente.",
        "So many repeats usually mean the register was pasted into the file more than "
        "once: check it, correct it and validate it again.",
    ),
    "event_type_not_reported": _r(
        "warning",
        "El archivo no trae ningún evento de tipo {event_type} ({name_es}).",
        "O arquivo não traz nenhum evento do tipo {event_type} ({name_pt}).",
        "The file has no events of type {event_type} ({name_en}).",
        "Verifique que envió el registro completo; si en el año no hubo eventos de este "
        "tipo, avise a la secretaría.",
        "Verifique se enviou o registro completo; se no ano não houve eventos deste tipo, "
        "avise a secretaria.",
        "Check that you sent the complete register; if there were no events of this type "
        "in the year, tell the secretariat.",
    ),
    "event_count_jump": _r(
        "warning",
        "Eventos de tipo {event_type} ({name_es}): {count} en este archivo frente a "
        "{previous} en el ciclo anterior; el número cambió más de {ratio} veces.",
        "Eventos do tipo {event_type} ({name_pt}): {count} neste arquivo contra {previous} "
        "no ciclo anterior; o número mudou mais de {ratio} vezes.",
        "Events of type {event_type} ({name_en}): {count} in this file against {previous} "
        "in the previous cycle; the number changed more than {ratio}-fold.",
        "Verifique que el archivo trae el registro completo del año, sin filas repetidas. "
        "Si el cambio es real, explíquelo a la secretaría.",
        "Verifique se o arquivo traz o registro completo do ano, sem linhas repetidas. "
        "Se a mudança for real, explique-a à secretaria.",
        "Check that the file holds the year's complete register, with no repeated rows. "
        "If the change is real, explain it to the secretariat.",
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

    from ideal.catalogue import BABEL_LOCALES

    return str(format_decimal(value, locale=BABEL_LOCALES.get(lang, "en")))  # type: ignore[call-overload]


class _SafeDict(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


# -- labels of the steward's tools: the submission template and the validation report ----
def _l(es: str, pt: str, en: str) -> dict[str, str]:
    return {"es": es, "pt": pt, "en": en}


LABELS: dict[str, dict[str, str]] = {
    # the template's sheets
    "tpl.sheet.instructions": _l("Instrucciones", "Instruções", "Instructions"),
    "tpl.sheet.data": _l("Datos", "Dados", "Data"),
    "tpl.sheet.reference": _l("Referencia", "Referência", "Reference"),
    "tpl.title": _l(
        "IDEAL · Plantilla de envío de {country} ({iso3}) · ciclo {cycle}",
        "IDEAL · Modelo de envio de {country} ({iso3}) · ciclo {cycle}",
        "IDEAL · Submission template for {country} ({iso3}) · cycle {cycle}",
    ),
    "tpl.subtitle": _l(
        "Evaluación regional de la amenaza de la criminalidad organizada transnacional "
        "(CLASI). Datos del año {year}. Catálogo de indicadores {version}; plantilla "
        "generada el {date}.",
        "Avaliação regional da ameaça do crime organizado transnacional (CLASI). Dados do "
        "ano {year}. Catálogo de indicadores {version}; modelo gerado em {date}.",
        "Regional assessment of the threat of transnational organised crime (CLASI). Data "
        "for the year {year}. Indicator catalogue {version}; template made on {date}.",
    ),
    # instructions, section by section
    "tpl.h.fill": _l("1. Qué completar", "1. O que preencher", "1. What to fill in"),
    "tpl.fill.1": _l(
        "La hoja «{data}» ya trae una fila por cada indicador esperado, con país, periodo, "
        "indicador y unidad completos. En cada fila escriba el valor, la fuente, la "
        "fiabilidad y la credibilidad; las celdas amarillas faltan por completar.",
        "A planilha «{data}» já traz uma linha para cada indicador esperado, com país, "
        "período, indicador e unidade preenchidos. Em cada linha escreva o valor, a fonte, "
        "a confiabilidade e a credibilidade; as células amarelas ainda faltam preencher.",
        "The '{data}' sheet already has one row per expected indicator, with country, "
        "period, indicator and unit filled in. On each row write the value, the source, "
        "the reliability and the credibility; yellow cells are still to be filled in.",
    ),
    "tpl.fill.2": _l(
        "Al seleccionar una celda de indicador o de valor, Excel muestra el nombre del "
        "indicador, su unidad y su rango plausible. La hoja «{reference}» los lista todos.",
        "Ao selecionar uma célula de indicador ou de valor, o Excel mostra o nome do "
        "indicador, sua unidade e sua faixa plausível. A planilha «{reference}» lista todos.",
        "When you select an indicator or value cell, Excel shows the indicator's name, its "
        "unit and its plausible range. The '{reference}' sheet lists them all.",
    ),
    "tpl.fill.3": _l(
        "Las listas desplegables muestran los valores admitidos; Excel rechaza lo que no "
        "corresponde. No cambie los encabezados ni agregue columnas.",
        "As listas suspensas mostram os valores aceitos; o Excel recusa o que não "
        "corresponde. Não altere os cabeçalhos nem adicione colunas.",
        "Drop-down lists show the accepted values; Excel refuses anything else. Do not "
        "change the headers or add columns.",
    ),
    "tpl.h.columns": _l("2. Columnas", "2. Colunas", "2. Columns"),
    "tpl.th.column": _l("Columna", "Coluna", "Column"),
    "tpl.th.required": _l("¿Obligatoria?", "Obrigatória?", "Required?"),
    "tpl.th.what": _l("Qué escribir", "O que escrever", "What to write"),
    "tpl.required.yes": _l("sí", "sim", "yes"),
    "tpl.required.no": _l("no", "não", "no"),
    "tpl.col.country": _l(
        "El código del país ({iso3}). Un solo país por archivo.",
        "O código do país ({iso3}). Um único país por arquivo.",
        "The country's code ({iso3}). One country per file.",
    ),
    "tpl.col.period": _l(
        "El año ({year}) o un trimestre ({year}-T1 … {year}-T4; también se acepta {year}-Q1).",
        "O ano ({year}) ou um trimestre ({year}-T1 … {year}-T4; {year}-Q1 também é aceito).",
        "The year ({year}) or a quarter ({year}-Q1 … {year}-Q4; {year}-T1 is also accepted).",
    ),
    "tpl.col.indicator": _l(
        "El código del indicador, de la lista desplegable (ver la hoja «{reference}»).",
        "O código do indicador, da lista suspensa (ver a planilha «{reference}»).",
        "The indicator's code, from the drop-down list (see the '{reference}' sheet).",
    ),
    "tpl.col.value": _l(
        "La cifra, en la unidad de la fila. «n/d» si no está disponible; «<5» si está "
        "suprimida por ser pequeña.",
        "O número, na unidade da linha. «n/d» se não estiver disponível; «<5» se for "
        "suprimido por ser pequeno.",
        "The figure, in the row's unit. 'n/d' if it is not available; '<5' if it is "
        "suppressed because it is small.",
    ),
    "tpl.col.unit": _l(
        "La unidad de la cifra. Puede elegir otra de la misma magnitud (t o g en vez de kg).",
        "A unidade do número. Pode escolher outra da mesma grandeza (t ou g em vez de kg).",
        "The figure's unit. You may pick another of the same kind (t or g instead of kg).",
    ),
    "tpl.col.source": _l(
        "La institución que produjo la cifra (p. ej. Policía Nacional – DIJIN).",
        "A instituição que produziu o número (p. ex. Polícia Federal – DICOR).",
        "The institution that produced the figure (e.g. National Police – DIJIN).",
    ),
    "tpl.col.reliability": _l(
        "La fiabilidad de la fuente, de A a F (sección 3).",
        "A confiabilidade da fonte, de A a F (seção 3).",
        "The source's reliability, A to F (section 3).",
    ),
    "tpl.col.credibility": _l(
        "La credibilidad de la información, de 1 a 6 (sección 3).",
        "A credibilidade da informação, de 1 a 6 (seção 3).",
        "The information's credibility, 1 to 6 (section 3).",
    ),
    "tpl.col.trend": _l(
        "Sólo en las valoraciones expertas: {trends}. Vacía en las demás filas.",
        "Só nas avaliações especializadas: {trends}. Vazia nas demais linhas.",
        "Expert ratings only: {trends}. Leave it empty on other rows.",
    ),
    "tpl.col.notes": _l(
        "Aclaraciones: por qué falta un dato, cambios de método, cobertura parcial.",
        "Esclarecimentos: por que falta um dado, mudanças de método, cobertura parcial.",
        "Remarks: why a figure is missing, changes of method, partial coverage.",
    ),
    "tpl.h.grades": _l(
        "3. Fiabilidad de la fuente (A–F) y credibilidad de la información (1–6)",
        "3. Confiabilidade da fonte (A–F) e credibilidade da informação (1–6)",
        "3. Source reliability (A–F) and information credibility (1–6)",
    ),
    "tpl.grades.intro": _l(
        "Califique cada cifra con el código del Almirantazgo (OTAN 6×6): una letra para la "
        "fuente y una cifra para la información. Las calificaciones alimentan la medida de "
        "confianza de la evaluación.",
        "Classifique cada número com o código do Almirantado (OTAN 6×6): uma letra para a "
        "fonte e um algarismo para a informação. As classificações alimentam a medida de "
        "confiança da avaliação.",
        "Grade each figure with the Admiralty code (NATO 6×6): a letter for the source and "
        "a digit for the information. The grades feed the assessment's confidence measure.",
    ),
    "tpl.grade.A": _l("Completamente fiable", "Totalmente confiável", "Completely reliable"),
    "tpl.grade.B": _l("Normalmente fiable", "Geralmente confiável", "Usually reliable"),
    "tpl.grade.C": _l("Bastante fiable", "Razoavelmente confiável", "Fairly reliable"),
    "tpl.grade.D": _l("Normalmente no fiable", "Geralmente não confiável", "Not usually reliable"),
    "tpl.grade.E": _l("No fiable", "Não confiável", "Unreliable"),
    "tpl.grade.F": _l(
        "No se puede juzgar la fiabilidad",
        "A confiabilidade não pode ser avaliada",
        "Reliability cannot be judged",
    ),
    "tpl.cred.1": _l(
        "Confirmada por otras fuentes", "Confirmada por outras fontes", "Confirmed by other sources"
    ),
    "tpl.cred.2": _l("Probablemente cierta", "Provavelmente verdadeira", "Probably true"),
    "tpl.cred.3": _l("Posiblemente cierta", "Possivelmente verdadeira", "Possibly true"),
    "tpl.cred.4": _l("Dudosa", "Duvidosa", "Doubtful"),
    "tpl.cred.5": _l("Improbable", "Improvável", "Improbable"),
    "tpl.cred.6": _l(
        "No se puede juzgar la veracidad",
        "A veracidade não pode ser avaliada",
        "Truth cannot be judged",
    ),
    "tpl.h.special": _l(
        "4. Datos faltantes, cifras suprimidas y números",
        "4. Dados faltantes, números suprimidos e algarismos",
        "4. Missing figures, suppressed counts and numbers",
    ),
    "tpl.special.missing": _l(
        "Si no tiene el dato, escriba «n/d» en «{value}» y explique el motivo en «{notes}». "
        "No deje la celda vacía ni escriba 0.",
        "Se não tiver o dado, escreva «n/d» em «{value}» e explique o motivo em «{notes}». "
        "Não deixe a célula vazia nem escreva 0.",
        "If you do not have the figure, write 'n/d' in '{value}' and give the reason in "
        "'{notes}'. Do not leave the cell empty or write 0.",
    ),
    "tpl.special.censored": _l(
        "Si una cifra pequeña se suprime por confidencialidad, escriba «<5» (o su umbral, "
        "p. ej. «<10»). Se usará la mitad del umbral.",
        "Se um número pequeno é suprimido por sigilo, escreva «<5» (ou o seu limite, "
        "p. ex. «<10»). Será usada a metade do limite.",
        "If a small count is suppressed for confidentiality, write '<5' (or your threshold, "
        "e.g. '<10'). Half the threshold will be used.",
    ),
    "tpl.special.numbers": _l(
        "Escriba sólo la cifra, sin texto ni unidad (p. ej. 1234,5). No se admiten valores "
        "negativos.",
        "Escreva só o número, sem texto nem unidade (p. ex. 1234,5). Não se aceitam "
        "valores negativos.",
        "Write the figure only, with no text or unit (e.g. 1234.5). Negative values are "
        "not accepted.",
    ),
    "tpl.special.plausible": _l(
        "Una cifra fuera del rango plausible no bloquea el envío pero se señala: "
        "verifíquela y, si es correcta, explíquela en «{notes}».",
        "Um número fora da faixa plausível não bloqueia o envio, mas é sinalizado: "
        "verifique-o e, se estiver correto, explique-o em «{notes}».",
        "A figure outside the plausible range does not block the file but is flagged: "
        "check it and, if it is right, explain it in '{notes}'.",
    ),
    "tpl.h.units": _l("5. Unidades", "5. Unidades", "5. Units"),
    "tpl.units.1": _l(
        "Cada fila trae la unidad del catálogo (p. ej. kg). Si su dato está en toneladas "
        "(t) o gramos (g), elija esa unidad: se convierte a kg automáticamente y se señala "
        "con una advertencia.",
        "Cada linha traz a unidade do catálogo (p. ex. kg). Se o seu dado estiver em "
        "toneladas (t) ou gramas (g), escolha essa unidade: é convertido em kg "
        "automaticamente e sinalizado com uma advertência.",
        "Each row carries the catalogue's unit (e.g. kg). If your figure is in tonnes (t) "
        "or grams (g), pick that unit: it is converted to kg automatically and flagged with "
        "a warning.",
    ),
    "tpl.units.2": _l(
        "Una unidad de otra magnitud (p. ej. kg en un conteo) es un error.",
        "Uma unidade de outra grandeza (p. ex. kg numa contagem) é um erro.",
        "A unit of another kind (e.g. kg for a count) is an error.",
    ),
    "tpl.h.periods": _l("6. Periodos", "6. Períodos", "6. Periods"),
    "tpl.periods.1": _l(
        "Este ciclo recoge datos del año {year}: informe el año completo ({year}) en la "
        "fila ya preparada.",
        "Este ciclo coleta dados do ano {year}: informe o ano completo ({year}) na linha "
        "já preparada.",
        "This cycle collects data for {year}: report the whole year ({year}) on the row "
        "already prepared.",
    ),
    "tpl.periods.2": _l(
        "Si sólo tiene trimestres, cambie el periodo de la fila a {year}-T1 y use las filas "
        "vacías al final de la tabla para {year}-T2, {year}-T3 y {year}-T4 (mismo indicador "
        "y unidad). No informe un indicador por año y por trimestre a la vez.",
        "Se só tiver trimestres, mude o período da linha para {year}-T1 e use as linhas "
        "vazias no fim da tabela para {year}-T2, {year}-T3 e {year}-T4 (mesmo indicador e "
        "unidade). Não informe um indicador por ano e por trimestre ao mesmo tempo.",
        "If you only have quarters, change the row's period to {year}-Q1 and use the empty "
        "rows at the end of the table for {year}-Q2, {year}-Q3 and {year}-Q4 (same indicator "
        "and unit). Do not report an indicator for the year and by quarter at once.",
    ),
    "tpl.h.expert": _l(
        "7. Valoraciones expertas", "7. Avaliações especializadas", "7. Expert ratings"
    ),
    "tpl.expert.1": _l(
        "Las filas «…_expert_score» recogen la valoración del panel nacional de expertos "
        "sobre el alcance y el impacto de cada mercado criminal: de {low} (mínimo) a "
        "{high} (máximo), con la tendencia percibida ({trends}) y una justificación breve en "
        "«{notes}».",
        "As linhas «…_expert_score» trazem a avaliação do painel nacional de especialistas "
        "sobre o alcance e o impacto de cada mercado criminoso: de {low} (mínimo) a "
        "{high} (máximo), com a tendência percebida ({trends}) e uma justificativa breve em "
        "«{notes}».",
        "The '…_expert_score' rows hold the national expert panel's rating of each criminal "
        "market's scope and impact: {low} (lowest) to {high} (highest), with the perceived trend "
        "({trends}) and a short justification in '{notes}'.",
    ),
    "tpl.h.country": _l(
        "8. Un país por archivo", "8. Um país por arquivo", "8. One country per file"
    ),
    "tpl.country.1": _l(
        "Este archivo es sólo para {country} ({iso3}). Un archivo con filas de varios "
        "países se rechaza.",
        "Este arquivo é só para {country} ({iso3}). Um arquivo com linhas de vários "
        "países é rejeitado.",
        "This file is for {country} ({iso3}) only. A file with rows for several countries "
        "is rejected.",
    ),
    "tpl.h.check": _l(
        "9. Verifique antes de enviar", "9. Verifique antes de enviar", "9. Check before sending"
    ),
    "tpl.check.1": _l(
        "Guarde el archivo (sin contraseña) y verifíquelo en su computadora, sin conexión:",
        "Salve o arquivo (sem senha) e verifique-o no seu computador, sem conexão:",
        "Save the file (without a password) and check it on your computer, offline:",
    ),
    "tpl.check.report": _l("informe.html", "relatorio.html", "report.html"),
    "tpl.check.2": _l(
        "El resultado es «aceptado» (puede enviarlo), «aceptado con advertencias» (puede "
        "enviarlo; revise las advertencias) o «rechazado» (corrija cada error indicado por "
        "fila y columna y verifique de nuevo). El informe HTML lista cada problema con su "
        "fila, columna, valor, explicación y cómo corregirlo.",
        "O resultado é «aceito» (pode enviá-lo), «aceito com advertências» (pode enviá-lo; "
        "revise as advertências) ou «rejeitado» (corrija cada erro indicado por linha e "
        "coluna e verifique de novo). O relatório HTML lista cada problema com linha, "
        "coluna, valor, explicação e como corrigi-lo.",
        "The result is 'accepted' (send it), 'accepted with warnings' (you may send it; "
        "review the warnings) or 'rejected' (fix each error listed by row and column, then "
        "check again). The HTML report lists each problem with its row, column, value, "
        "explanation and how to fix it.",
    ),
    "tpl.check.3": _l(
        "Las hojas están protegidas, sin contraseña, para evitar cambios accidentales en "
        "los encabezados; puede escribir en todas las filas de datos. Para quitar la "
        "protección: Revisar › Desproteger hoja.",
        "As planilhas estão protegidas, sem senha, para evitar alterações acidentais nos "
        "cabeçalhos; pode escrever em todas as linhas de dados. Para remover a proteção: "
        "Revisão › Desproteger planilha.",
        "The sheets are protected, without a password, against accidental changes to the "
        "headers; you can type in every data row. To remove the protection: Review › "
        "Unprotect Sheet.",
    ),
    # input messages and error alerts of the data sheet (Excel: title <= 32, text <= 255)
    "tpl.dv.error_title": _l("Valor no admitido", "Valor não aceito", "Value not accepted"),
    "tpl.dv.list_error": _l(
        "Elija un valor de la lista desplegable.",
        "Escolha um valor da lista suspensa.",
        "Pick a value from the drop-down list.",
    ),
    "tpl.dv.country": _l(
        "Un solo país por archivo: {iso3}.",
        "Um único país por arquivo: {iso3}.",
        "One country per file: {iso3}.",
    ),
    "tpl.dv.period": _l(
        "{year}, o un trimestre: {year}-T1 … {year}-T4.",
        "{year}, ou um trimestre: {year}-T1 … {year}-T4.",
        "{year}, or a quarter: {year}-Q1 … {year}-Q4.",
    ),
    "tpl.dv.indicator": _l(
        "{name}. Categoría: {category}.",
        "{name}. Categoria: {category}.",
        "{name}. Category: {category}.",
    ),
    "tpl.dv.indicator_any": _l(
        "Elija un código de la lista; sus nombres están en la hoja «{reference}».",
        "Escolha um código da lista; os nomes estão na planilha «{reference}».",
        "Pick a code from the list; their names are on the '{reference}' sheet.",
    ),
    "tpl.dv.value": _l(
        "{name}, en {unit_name} ({unit}). Rango plausible: {low} – {high}. Sin dato: n/d "
        "(explique en notas). Cifra suprimida: <5.",
        "{name}, em {unit_name} ({unit}). Faixa plausível: {low} – {high}. Sem dado: n/d "
        "(explique em observações). Número suprimido: <5.",
        "{name}, in {unit_name} ({unit}). Plausible range: {low} – {high}. No figure: n/d "
        "(explain in notes). Suppressed count: <5.",
    ),
    "tpl.dv.value_expert": _l(
        "{name}: de {low} (mínimo) a {high} (máximo). Sin dato: n/d (explique en notas).",
        "{name}: de {low} (mínimo) a {high} (máximo). Sem dado: n/d (explique em observações).",
        "{name}: {low} (lowest) to {high} (highest). No figure: n/d (explain in notes).",
    ),
    "tpl.dv.value_any": _l(
        "Una cifra mayor o igual a 0, «n/d» si no hay dato, o «<5» si está suprimida.",
        "Um número maior ou igual a 0, «n/d» se não houver dado, ou «<5» se suprimido.",
        "A figure of 0 or more, 'n/d' if there is none, or '<5' if it is suppressed.",
    ),
    "tpl.dv.value_error": _l(
        "Escriba una cifra mayor o igual a 0, «n/d» si no hay dato o «<5» si está "
        "suprimida. Las valoraciones expertas van de {low} a {high}.",
        "Escreva um número maior ou igual a 0, «n/d» se não houver dado ou «<5» se "
        "suprimido. As avaliações especializadas vão de {low} a {high}.",
        "Write a figure of 0 or more, 'n/d' if there is none or '<5' if it is suppressed. "
        "Expert ratings run from {low} to {high}.",
    ),
    "tpl.dv.unit": _l(
        "Otra unidad de la misma magnitud se convierte automáticamente.",
        "Outra unidade da mesma grandeza é convertida automaticamente.",
        "Another unit of the same kind is converted automatically.",
    ),
    "tpl.dv.reliability": _l(
        "A totalmente fiable, B normalmente fiable, C bastante fiable, D normalmente no "
        "fiable, E no fiable, F no se puede juzgar.",
        "A totalmente confiável, B geralmente confiável, C razoavelmente confiável, "
        "D geralmente não confiável, E não confiável, F não pode ser avaliada.",
        "A completely reliable, B usually reliable, C fairly reliable, D not usually "
        "reliable, E unreliable, F cannot be judged.",
    ),
    "tpl.dv.credibility": _l(
        "1 confirmada, 2 probablemente cierta, 3 posiblemente cierta, 4 dudosa, "
        "5 improbable, 6 no se puede juzgar.",
        "1 confirmada, 2 provavelmente verdadeira, 3 possivelmente verdadeira, 4 duvidosa, "
        "5 improvável, 6 não pode ser avaliada.",
        "1 confirmed, 2 probably true, 3 possibly true, 4 doubtful, 5 improbable, "
        "6 cannot be judged.",
    ),
    "tpl.dv.trend": _l(
        "Tendencia percibida: {trends}.",
        "Tendência percebida: {trends}.",
        "Perceived trend: {trends}.",
    ),
    "tpl.dv.trend_na": _l(
        "La tendencia sólo se informa en las valoraciones expertas: deje esta celda vacía.",
        "A tendência só se informa nas avaliações especializadas: deixe esta célula vazia.",
        "A trend is only given for expert ratings: leave this cell empty.",
    ),
    "tpl.dv.text": _l(
        "Texto libre, hasta {limit} caracteres.",
        "Texto livre, até {limit} caracteres.",
        "Free text, up to {limit} characters.",
    ),
    "tpl.dv.text_error": _l(
        "El texto supera {limit} caracteres.",
        "O texto passa de {limit} caracteres.",
        "The text is longer than {limit} characters.",
    ),
    # the reference sheet
    "tpl.ref.code": _l("código", "código", "code"),
    "tpl.ref.name": _l("nombre", "nome", "name"),
    "tpl.ref.category": _l("categoría", "categoria", "category"),
    "tpl.ref.kind": _l("tipo", "tipo", "kind"),
    "tpl.ref.unit": _l("unidad del catálogo", "unidade do catálogo", "catalogue unit"),
    "tpl.ref.unit_name": _l("nombre de la unidad", "nome da unidade", "unit name"),
    "tpl.ref.units_ok": _l("unidades aceptadas", "unidades aceitas", "accepted units"),
    "tpl.ref.direction": _l("sentido", "sentido", "direction"),
    "tpl.ref.compared": _l("se compara", "é comparado", "compared"),
    "tpl.ref.low": _l("mínimo plausible", "mínimo plausível", "plausible minimum"),
    "tpl.ref.high": _l("máximo plausible", "máximo plausível", "plausible maximum"),
    "tpl.ref.quarters": _l(
        "los trimestres se combinan por",
        "os trimestres são combinados por",
        "quarters are combined by",
    ),
    "tpl.kind.quantitative": _l("cuantitativo", "quantitativo", "quantitative"),
    "tpl.kind.expert": _l("valoración experta", "avaliação especializada", "expert rating"),
    "tpl.direction.up": _l(
        "más alto = más amenaza", "mais alto = mais ameaça", "higher = more threat"
    ),
    "tpl.direction.down": _l(
        "más alto = menos amenaza", "mais alto = menos ameaça", "higher = less threat"
    ),
    "tpl.compared.as_is": _l("tal cual", "como informado", "as reported"),
    "tpl.agg.sum": _l("suma", "soma", "sum"),
    "tpl.agg.mean": _l("promedio", "média", "mean"),
    # the event-record template (one row per seizure, incident or victim); shared words
    # (sheets, grades, checks) are the tpl.* ones above, column notes fall back to tpl.col.*
    "tpl.ev.title": _l(
        "IDEAL · Registro de eventos · {country} ({iso3}) · ciclo {cycle}",
        "IDEAL · Registro de eventos · {country} ({iso3}) · ciclo {cycle}",
        "IDEAL · Event records · {country} ({iso3}) · cycle {cycle}",
    ),
    "tpl.ev.subtitle": _l(
        "Evaluación regional de la amenaza de la criminalidad organizada transnacional "
        "(CLASI). Eventos ocurridos en {year}. Catálogo {version}; plantilla generada el "
        "{date}.",
        "Avaliação regional da ameaça do crime organizado transnacional (CLASI). Eventos "
        "ocorridos em {year}. Catálogo {version}; modelo gerado em {date}.",
        "Regional assessment of the threat of transnational organised crime (CLASI). Events "
        "that took place in {year}. Catalogue {version}; template made on {date}.",
    ),
    "tpl.ev.h.fill": _l("1. Qué es una fila", "1. O que é uma linha", "1. What one row is"),
    "tpl.ev.fill.1": _l(
        "Cada fila de la hoja «{data}» es un solo evento ocurrido en {year} ({types}): "
        "cuándo, dónde, qué y cuánto. No sume varios eventos en una fila: los totales se "
        "calculan a partir de las filas.",
        "Cada linha da planilha «{data}» é um único evento ocorrido em {year} ({types}): "
        "quando, onde, o quê e quanto. Não some vários eventos numa linha: os totais são "
        "calculados a partir das linhas.",
        "Each row of the '{data}' sheet is one event that took place in {year} ({types}): "
        "when, where, what and how much. Do not add several events up in one row: totals "
        "are computed from the rows.",
    ),
    "tpl.ev.fill.2": _l(
        "Escriba desde la fila 2. El país ({iso3}) se completa solo en cuanto escribe en la "
        "fila; las filas que deje vacías no cuentan. Hay {rows} filas preparadas: si "
        "necesita más, copie la última fila hacia abajo.",
        "Escreva a partir da linha 2. O país ({iso3}) é preenchido automaticamente assim "
        "que você escreve na linha; as linhas deixadas vazias não contam. Há {rows} linhas "
        "preparadas: se precisar de mais, copie a última linha para baixo.",
        "Start on row 2. The country ({iso3}) fills itself in as soon as you write in the "
        "row; rows left empty do not count. There are {rows} rows ready: if you need more, "
        "copy the last row down.",
    ),
    "tpl.ev.col.country": _l(
        "Se completa solo ({iso3}) cuando escribe en la fila. Un solo país por archivo.",
        "Preenchido automaticamente ({iso3}) quando você escreve na linha. Um único país "
        "por arquivo.",
        "Fills itself in ({iso3}) when you write in the row. One country per file.",
    ),
    "tpl.ev.col.date": _l(
        "El día del evento, en {year} y no posterior a hoy: {example} (día/mes/año) o {iso} "
        "(año-mes-día).",
        "O dia do evento, em {year} e não posterior a hoje: {example} (dia/mês/ano) ou "
        "{iso} (ano-mês-dia).",
        "The day of the event, in {year} and not after today: {example} (day/month/year) "
        "or {iso} (year-month-day).",
    ),
    "tpl.ev.col.admin1": _l(
        "El departamento, estado o provincia donde ocurrió, como lo nombra su país.",
        "O estado, departamento ou província onde ocorreu, como o seu país o denomina.",
        "The department, state or province where it took place, as your country names it.",
    ),
    "tpl.ev.col.event_type": _l(
        "El tipo de evento, de la lista desplegable: {types}.",
        "O tipo de evento, da lista suspensa: {types}.",
        "The event type, from the drop-down list: {types}.",
    ),
    "tpl.ev.col.item": _l(
        "Qué se incautó o qué ocurrió, de la lista desplegable. Debe corresponder al tipo "
        "de evento (ver la hoja «{reference}»).",
        "O que foi apreendido ou o que ocorreu, da lista suspensa. Deve corresponder ao "
        "tipo de evento (ver a planilha «{reference}»).",
        "What was seized or what happened, from the drop-down list. It must belong to the "
        "event type (see the '{reference}' sheet).",
    ),
    "tpl.ev.col.quantity": _l(
        "La cantidad, 0 o más, en la unidad de la fila: 1 para una víctima o un incidente.",
        "A quantidade, 0 ou mais, na unidade da linha: 1 para uma vítima ou uma ocorrência.",
        "The quantity, 0 or more, in the row's unit: 1 for one victim or one incident.",
    ),
    "tpl.ev.col.unit": _l(
        "La unidad de la cantidad: la del elemento (hoja «{reference}») u otra de la misma "
        "magnitud (t o g en vez de kg).",
        "A unidade da quantidade: a do item (planilha «{reference}») ou outra da mesma "
        "grandeza (t ou g em vez de kg).",
        "The quantity's unit: the item's unit ('{reference}' sheet) or another of the same "
        "kind (t or g instead of kg).",
    ),
    "tpl.ev.col.source": _l(
        "La institución que registró el evento (p. ej. Policía Nacional – DIJIN).",
        "A instituição que registrou o evento (p. ex. Polícia Federal – DICOR).",
        "The institution that recorded the event (e.g. National Police – DIJIN).",
    ),
    "tpl.ev.col.notes": _l(
        "Aclaraciones: circunstancias del evento, cantidades estimadas, operaciones conjuntas.",
        "Esclarecimentos: circunstâncias do evento, quantidades estimadas, operações conjuntas.",
        "Remarks: circumstances of the event, estimated quantities, joint operations.",
    ),
    "tpl.ev.h.dates": _l("4. Fechas", "4. Datas", "4. Dates"),
    "tpl.ev.dates.1": _l(
        "Escriba la fecha como de costumbre, día/mes/año ({example}), o en formato ISO "
        "año-mes-día ({iso}). Excel la guarda como fecha; una fecha escrita como texto en "
        "cualquiera de esas dos formas también se acepta.",
        "Escreva a data como de costume, dia/mês/ano ({example}), ou no formato ISO "
        "ano-mês-dia ({iso}). O Excel a guarda como data; uma data escrita como texto em "
        "qualquer uma dessas duas formas também é aceita.",
        "Write the date day/month/year ({example}), never month first, or in ISO form "
        "year-month-day ({iso}). Excel keeps it as a date; a date typed as text in either "
        "form is accepted too.",
    ),
    "tpl.ev.dates.2": _l(
        "Sólo fechas de {year}, hasta hoy: un evento de otro año va en la plantilla del "
        "ciclo de ese año, y una fecha futura se rechaza.",
        "Só datas de {year}, até hoje: um evento de outro ano vai no modelo do ciclo desse "
        "ano, e uma data futura é rejeitada.",
        "Only dates in {year}, up to today: an event of another year goes in that year's "
        "cycle template, and a future date is rejected.",
    ),
    "tpl.ev.h.units": _l(
        "5. Cantidades y unidades", "5. Quantidades e unidades", "5. Quantities and units"
    ),
    "tpl.ev.units.1": _l(
        "Cada elemento tiene su unidad y su rango plausible en la hoja «{reference}». Puede "
        "informar en otra unidad de la misma magnitud (t o g en vez de kg): se convierte "
        "automáticamente y se señala con una advertencia.",
        "Cada item tem sua unidade e sua faixa plausível na planilha «{reference}». Pode "
        "informar em outra unidade da mesma grandeza (t ou g em vez de kg): é convertida "
        "automaticamente e sinalizada com uma advertência.",
        "Each item has its unit and plausible range on the '{reference}' sheet. You may "
        "report in another unit of the same kind (t or g instead of kg): it is converted "
        "automatically and flagged with a warning.",
    ),
    "tpl.ev.units.2": _l(
        "Escriba sólo la cifra, 0 o más, sin texto ni unidad (p. ej. 1234,5).",
        "Escreva só o número, 0 ou mais, sem texto nem unidade (p. ex. 1234,5).",
        "Write the figure only, 0 or more, with no text or unit (e.g. 1234.5).",
    ),
    "tpl.ev.h.country": _l(
        "6. Un país por archivo", "6. Um país por arquivo", "6. One country per file"
    ),
    "tpl.ev.h.check": _l(
        "7. Verifique antes de enviar", "7. Verifique antes de enviar", "7. Check before sending"
    ),
    "tpl.ev.dv.country": _l(
        "Se completa solo al escribir en la fila. Un solo país por archivo: {iso3}.",
        "Preenchido automaticamente ao escrever na linha. Um único país por arquivo: {iso3}.",
        "Fills itself in when you write in the row. One country per file: {iso3}.",
    ),
    "tpl.ev.dv.date": _l(
        "Día del evento, en {year} y no posterior a hoy: {example} o {iso}.",
        "Dia do evento, em {year} e não posterior a hoje: {example} ou {iso}.",
        "Day of the event, in {year} and not after today: {example} or {iso}.",
    ),
    "tpl.ev.dv.date_error": _l(
        "Escriba una fecha de {year}, p. ej. {example} o {iso}.",
        "Escreva uma data de {year}, p. ex. {example} ou {iso}.",
        "Write a date in {year}, e.g. {example} or {iso}.",
    ),
    "tpl.ev.dv.admin1": _l(
        "Departamento, estado o provincia donde ocurrió, hasta {limit} caracteres.",
        "Estado, departamento ou província onde ocorreu, até {limit} caracteres.",
        "Department, state or province where it took place, up to {limit} characters.",
    ),
    "tpl.ev.dv.event_type": _l(
        "{types}. El elemento debe corresponder al tipo: vea la hoja «{reference}».",
        "{types}. O item deve corresponder ao tipo: veja a planilha «{reference}».",
        "{types}. The item must belong to the type: see the '{reference}' sheet.",
    ),
    "tpl.ev.dv.item": _l(
        "Elija primero el tipo de evento: la lista ofrece solo sus elementos. La hoja "
        "«{reference}» indica qué elementos admite cada tipo.",
        "Escolha primeiro o tipo de evento: a lista oferece só os seus itens. A planilha "
        "«{reference}» indica quais itens cada tipo aceita.",
        "Choose the event type first: the list offers only its items. The '{reference}' "
        "sheet shows which items each type allows.",
    ),
    "tpl.ev.dv.quantity": _l(
        "Un número (0 o más) en la unidad de la fila (1 para una víctima o un incidente). "
        "Unidades y rangos plausibles: hoja «{reference}».",
        "Um número (0 ou mais) na unidade da linha (1 para uma vítima ou uma ocorrência). "
        "Unidades e faixas plausíveis: planilha «{reference}».",
        "A number (0 or more) in the row's unit (1 for one victim or one incident). Units and "
        "plausible ranges: '{reference}' sheet.",
    ),
    "tpl.ev.dv.quantity_error": _l(
        "Escriba un número, 0 o más, sin texto ni unidad.",
        "Escreva um número, 0 ou mais, sem texto nem unidade.",
        "Write a number, 0 or more, with no text or unit.",
    ),
    "tpl.ev.dv.unit": _l(
        "La unidad del elemento (hoja «{reference}») u otra de la misma magnitud, que se "
        "convierte automáticamente.",
        "A unidade do item (planilha «{reference}») ou outra da mesma grandeza, convertida "
        "automaticamente.",
        "The item's unit ('{reference}' sheet) or another of the same kind, converted "
        "automatically.",
    ),
    "tpl.ev.ref.also": _l("también se acepta", "também aceito", "also accepted"),
    "tpl.ev.ref.items": _l("elementos que admite", "itens que aceita", "items it allows"),
    "tpl.ev.json.rows": _l(
        "Agregue a «rows» un objeto por evento ocurrido en {year}, con las claves de "
        "«blank_row». Puede omitir «country»: se toma el del archivo ({iso3}).",
        "Adicione a «rows» um objeto por evento ocorrido em {year}, com as chaves de "
        "«blank_row». Pode omitir «country»: usa-se o do arquivo ({iso3}).",
        "Add to 'rows' one object per event that took place in {year}, with the keys of "
        "'blank_row'. You may leave out 'country': the file's ({iso3}) is used.",
    ),
    "tpl.ev.json.values": _l(
        "«event_type»: {types}; «item»: un código de «event_types» que corresponda al tipo "
        "(también se aceptan los nombres); «date»: texto {iso} o {example}; «quantity»: un "
        "número JSON, 0 o más (1234.5), sin comillas.",
        "«event_type»: {types}; «item»: um código de «event_types» que corresponda ao tipo "
        "(os nomes também são aceitos); «date»: texto {iso} ou {example}; «quantity»: um "
        "número JSON, 0 ou mais (1234.5), sem aspas.",
        "'event_type': {types}; 'item': a code under 'event_types' that belongs to the "
        "type (names are accepted too); 'date': text {iso} or {example}; 'quantity': a "
        "JSON number, 0 or more (1234.5), without quotes.",
    ),
    # the steward's validation report (HTML, CSV and the terminal)
    "report.title": _l(
        "Verificación de un envío IDEAL",
        "Verificação de um envio IDEAL",
        "IDEAL submission check",
    ),
    "report.status.accepted": _l("Aceptado", "Aceito", "Accepted"),
    "report.status.accepted_with_warnings": _l(
        "Aceptado con advertencias", "Aceito com advertências", "Accepted with warnings"
    ),
    "report.status.rejected": _l("Rechazado", "Rejeitado", "Rejected"),
    "report.status.unreadable": _l("Ilegible", "Ilegível", "Unreadable"),
    "report.summary.accepted": _l(
        "El archivo cumple todas las reglas.",
        "O arquivo cumpre todas as regras.",
        "The file meets every rule.",
    ),
    "report.summary.accepted_with_warnings": _l(
        "El archivo puede enviarse, pero tiene advertencias que conviene revisar.",
        "O arquivo pode ser enviado, mas tem advertências que convém revisar.",
        "The file can be sent, but it has warnings worth reviewing.",
    ),
    "report.summary.rejected": _l(
        "El archivo tiene errores: todavía no puede enviarse.",
        "O arquivo tem erros: ainda não pode ser enviado.",
        "The file has errors: it cannot be sent yet.",
    ),
    "report.summary.unreadable": _l(
        "El archivo no pudo leerse como un envío.",
        "O arquivo não pôde ser lido como um envio.",
        "The file could not be read as a submission.",
    ),
    "report.next": _l("Qué hacer ahora", "O que fazer agora", "What to do next"),
    "report.next.accepted": _l(
        "Envíe este mismo archivo a la secretaría técnica sin modificarlo. Si lo cambia, "
        "verifíquelo de nuevo antes de enviarlo.",
        "Envie este mesmo arquivo à secretaria técnica sem modificá-lo. Se o alterar, "
        "verifique-o de novo antes de enviar.",
        "Send this very file to the technical secretariat without changing it. If you "
        "change it, check it again before sending.",
    ),
    "report.next.accepted_with_warnings": _l(
        "Puede enviar el archivo. Antes, revise cada advertencia: si el dato es correcto, "
        "explíquelo en la columna «notas»; si no, corríjalo y verifique de nuevo.",
        "Pode enviar o arquivo. Antes, revise cada advertência: se o dado estiver correto, "
        "explique-o na coluna «observações»; se não, corrija-o e verifique de novo.",
        "You may send the file. First review each warning: if the figure is right, explain "
        "it in the 'notes' column; if not, fix it and check again.",
    ),
    "report.next.rejected": _l(
        "No envíe todavía este archivo. Corrija cada error de la tabla, empezando por el "
        "primero (a veces uno causa otros), guarde el archivo y verifíquelo de nuevo con el "
        "mismo comando hasta que diga «Aceptado».",
        "Não envie ainda este arquivo. Corrija cada erro da tabela, começando pelo primeiro "
        "(às vezes um causa outros), salve o arquivo e verifique-o de novo com o mesmo "
        "comando até que diga «Aceito».",
        "Do not send this file yet. Fix each error in the table, starting with the first "
        "(one error sometimes causes others), save the file and check it again with the "
        "same command until it says 'Accepted'.",
    ),
    "report.next.unreadable": _l(
        "Parta de la plantilla oficial (ideal template), guárdela como .xlsx sin "
        "contraseña, o como CSV o JSON, y verifíquela de nuevo.",
        "Parta do modelo oficial (ideal template), salve-o como .xlsx sem senha, ou como "
        "CSV ou JSON, e verifique-o de novo.",
        "Start from the official template (ideal template), save it as .xlsx without a "
        "password, or as CSV or JSON, and check it again.",
    ),
    "report.file": _l("Archivo", "Arquivo", "File"),
    "report.sha256": _l("Huella SHA-256", "Impressão digital SHA-256", "SHA-256 fingerprint"),
    "report.country": _l("País", "País", "Country"),
    "report.cycle": _l("Ciclo", "Ciclo", "Cycle"),
    "report.rows": _l("Filas de datos", "Linhas de dados", "Data rows"),
    "report.errors": _l("Errores", "Erros", "Errors"),
    "report.warnings": _l("Advertencias", "Advertências", "Warnings"),
    "report.checked_on": _l("Verificado el", "Verificado em", "Checked on"),
    "report.unknown": _l("no determinado", "não determinado", "not determined"),
    "report.issues": _l("Problemas encontrados", "Problemas encontrados", "Problems found"),
    "report.no_issues": _l(
        "No se encontró ningún problema.",
        "Nenhum problema foi encontrado.",
        "No problem was found.",
    ),
    "report.rows_note": _l(
        "Las filas son las que ve en Excel o en un editor de texto (la fila de encabezados "
        "cuenta). Primero los errores, que impiden el envío; luego las advertencias.",
        "As linhas são as que você vê no Excel ou num editor de texto (a linha de "
        "cabeçalho conta). Primeiro os erros, que impedem o envio; depois as advertências.",
        "Rows are those you see in Excel or a text editor (the header row counts). Errors, "
        "which block the file, come first; then warnings.",
    ),
    "report.th.severity": _l("Gravedad", "Gravidade", "Severity"),
    "report.th.row": _l("Fila", "Linha", "Row"),
    "report.th.column": _l("Columna", "Coluna", "Column"),
    "report.th.value": _l("Valor enviado", "Valor enviado", "Value sent"),
    "report.th.message": _l("Problema", "Problema", "Problem"),
    "report.th.hint": _l("Cómo corregirlo", "Como corrigir", "How to fix"),
    "report.th.rule": _l("Regla", "Regra", "Rule"),
    "report.severity.error": _l("error", "erro", "error"),
    "report.severity.warning": _l("advertencia", "advertência", "warning"),
    "report.whole_file": _l("todo el archivo", "arquivo inteiro", "whole file"),
    "report.empty": _l("(vacío)", "(vazio)", "(empty)"),
    "report.footer": _l(
        "Generado por «ideal validate» en su computadora, sin conexión: este informe no se "
        "envía a ninguna parte.",
        "Gerado por «ideal validate» no seu computador, sem conexão: este relatório não é "
        "enviado a lugar nenhum.",
        "Made by 'ideal validate' on your computer, offline: this report is not sent anywhere.",
    ),
    "report.wrote": _l("Escrito: {path}", "Gravado: {path}", "Wrote {path}"),
}
"""Words of the steward's template and validation report, by key, in es, pt and en."""


def label(key: str, lang: str, **params: object) -> str:
    """The text of ``key`` in ``lang`` (en if missing), with ``{name}`` placeholders filled."""
    texts = LABELS[key]
    text = texts.get(lang) or texts["en"]
    return text.format_map(_SafeDict({k: str(v) for k, v in params.items()})) if params else text
