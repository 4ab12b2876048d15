"""Cron schedule syntax as the CronJob controller (robfig/cron, standard parser) accepts it."""

from __future__ import annotations

MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
FIELDS = (("minute", 0, 59, {}), ("hour", 0, 23, {}), ("day of month", 1, 31, {}),
          ("month", 1, 12, {m: i + 1 for i, m in enumerate(
              ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}),
          ("day of week", 0, 6, {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}))


_MACRO_EXPANSIONS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                     "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *", "@hourly": "0 * * * *"}


def normalize(schedule: str) -> str:
    """A canonical text for comparing schedules: macros expanded, names to numbers, Sunday as 0."""
    text = _MACRO_EXPANSIONS.get(schedule.strip(), schedule.strip())
    fields = text.split()
    if len(fields) != 5:
        return " ".join(fields)
    out = []
    for value, (_, _, high, names) in zip(fields, FIELDS, strict=True):
        for word, number in names.items():
            value = value.lower().replace(word, str(number))
        if high == 6:
            value = ",".join("0" if part == "7" else part for part in value.split(","))
        out.append(value)
    return " ".join(out)


def problem(schedule: str) -> str:
    """Empty when valid, else what is wrong."""
    text = schedule.strip()
    if text.upper().startswith(("TZ=", "CRON_TZ=")):
        return "time zones in the schedule are not supported; use spec.timeZone"
    if text.startswith("@"):
        if text in MACROS or text.startswith("@every "):
            return ""
        return f"unknown schedule macro {text!r}"
    fields = text.split()
    if len(fields) != 5:
        return f"schedule {schedule!r} has {len(fields)} fields; cron needs 5"
    for value, (name, low, high, names) in zip(fields, FIELDS, strict=True):
        for part in value.split(","):
            if bad := _part_problem(part, low, high, names, name):
                return bad
    return ""


def _number(token: str, names: dict, low: int, high: int) -> int | None:
    value = names.get(token.lower()) if token.isalpha() else (int(token) if token.isdigit() else None)
    if value is None:
        return None
    if names and token.isdigit() and high == 6 and value == 7:
        return 0  # Sunday as 7
    return value if low <= value <= high else None


def _part_problem(part: str, low: int, high: int, names: dict, name: str) -> str:
    base, _, step = part.partition("/")
    if step and (not step.isdigit() or int(step) == 0):
        return f"invalid step {step!r} in {name} field"
    if base in ("*", "?"):
        return ""
    start, dash, end = base.partition("-")
    first = _number(start, names, low, high)
    last = _number(end, names, low, high) if dash else first
    if first is None or last is None:
        return f"{part!r} is not valid in the {name} field ({low}-{high})"
    if first > last:
        return f"range {base!r} in the {name} field runs backwards"
    return ""
