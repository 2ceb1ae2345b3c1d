#!/usr/bin/env python3
"""Check an NDJSON file of hoso events against the validation rules of DESIGN.md.

    python3 tools/check_events.py FILE [--now 2026-11-22T00:00:00+07:00] [--stats]

An independent re-statement of the appender's rules (for testing tools/gen_events.py, not a
part of hoso): ids unique and well-formed, catalog types, times well-formed, within
2000-01-01..now, occurred_at <= recorded_at, recorded_at never backwards, units established
before use, data fields and enums of each type, pseudonyms, no 9- or 12-digit runs in text,
corrections and voids pointing at earlier events, lines <= 1 MiB. Prints the first errors and
a summary; exit 0 when the file is valid, 1 otherwise.
"""

import argparse
import collections
import datetime
import json
import re
import sys

ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
UNIT = re.compile(r"[A-Za-z0-9-]+")
TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
PERSON = re.compile(r"P-[0-9a-f]{16}")
DIGIT_RUN = re.compile(r"(?<![0-9])(?:[0-9]{9}|[0-9]{12})(?![0-9])")

LEVELS = {"country", "province", "city", "district", "town", "commune", "ward"}
STR, INT, NUM, DATE_T, TARGETS, OBJ = "str", "int", "num", "date", "targets", "obj"


def enum(*v):
    return set(v)


# type -> {field: (kind, required)}; kind is a type tag or a set of allowed strings
CATALOG = {
    "unit.established": {"name": (STR, 1), "level": (LEVELS, 1), "parent": (STR, 0), "gso_code": (STR, 0)},
    "unit.merged": {"into": (STR, 1)},
    "unit.moved": {"parent": (STR, 1)},
    "establishment.registered": {"establishment": (STR, 1), "kind": (enum(
        "karaoke", "massage", "hotel", "guesthouse", "bar", "dance_hall", "spa", "other"), 1),
        "name": (STR, 0)},
    "establishment.closed": {"establishment": (STR, 1), "reason": (STR, 0)},
    "plan.adopted": {"plan": (STR, 1), "title": (STR, 1), "issuer": (STR, 1), "level": (STR, 1),
                     "period_start": (DATE_T, 1), "period_end": (DATE_T, 1), "basis": (STR, 0),
                     "targets": (TARGETS, 1)},
    "budget.allocated": {"plan": (STR, 1), "line": (STR, 1), "year": (INT, 1),
                         "amount_million_vnd": (NUM, 1)},
    "tip.received": {"source": (enum("citizen", "hotline", "police", "media", "worker", "other"), 1),
                     "establishment": (STR, 0), "summary": (STR, 0)},
    "tip.verified": {"finding": (enum("substantiated", "unfounded"), 1),
                     "classification": (enum("administrative", "criminal", "trafficking", "minor"), 0)},
    "inspection.done": {"establishment": (STR, 1),
                        "team": (enum("interagency_178", "police", "culture", "health"), 1),
                        "result": (enum("compliant", "violation"), 1),
                        "sanction": (enum("none", "warning", "fine", "suspension", "revocation"), 1),
                        "fine_vnd": (INT, 0)},
    "case.referred": {"referred_to": (enum("police", "procuracy", "court", "health", "social",
                                           "women_union"), 1), "basis": (STR, 0)},
    "case.closed": {"outcome": (STR, 1)},
    "support.provided": {"person": ("person", 1), "kind": (enum(
        "vocational_training", "job_placement", "loan", "health", "hiv_services", "legal_aid",
        "counselling", "allowance"), 1), "provider": (STR, 0), "amount_vnd": (INT, 0)},
    "outreach.held": {"form": (enum("meeting", "broadcast", "leaflet", "online", "performance"), 1),
                      "audience": (enum("residents", "students", "establishment_workers", "staff"), 1),
                      "reached": (INT, 1)},
    "training.held": {"audience": (enum("staff", "collaborators", "police", "teachers"), 1),
                      "participants": (INT, 1), "level": (STR, 1)},
    "event.corrected": {"target": (STR, 1), "changes": (OBJ, 1), "reason": (STR, 1)},
    "event.voided": {"target": (STR, 1), "reason": (STR, 1)},
    "person.forgotten": {"person": ("person", 1), "reason": (STR, 1)},
}
CASE_REQUIRED = {"tip.received", "tip.verified", "case.referred", "case.closed"}
ENVELOPE = {"id", "type", "occurred_at", "recorded_at", "unit", "case", "actor", "data"}


def parse_ts(s):
    if not isinstance(s, str) or not TS.fullmatch(s):
        return None
    try:
        return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return None


def check_value(kind, v):
    """None if v is a valid value of kind, else a message."""
    if isinstance(kind, set):
        return None if v in kind else "not one of %s" % sorted(kind)
    if kind == STR:
        return None if isinstance(v, str) else "not a string"
    if kind == "person":
        return None if isinstance(v, str) and PERSON.fullmatch(v) else "not a pseudonym P-<16 hex>"
    if kind == INT:
        return None if type(v) is int and v >= 0 else "not a non-negative integer"
    if kind == NUM:
        return None if type(v) in (int, float) and v >= 0 else "not a non-negative number"
    if kind == DATE_T:
        if not (isinstance(v, str) and DATE.fullmatch(v)):
            return "not a YYYY-MM-DD date"
        try:
            datetime.date.fromisoformat(v)
        except ValueError:
            return "not a valid date"
        return None
    if kind == TARGETS:
        if not isinstance(v, list):
            return "not a list"
        for t in v:
            if not isinstance(t, dict) or set(t) - {"indicator", "min_percent", "year"}:
                return "target with unknown fields"
            if not isinstance(t.get("indicator"), str):
                return "target without indicator"
            mp = t.get("min_percent")
            if type(mp) not in (int, float) or not 0 <= mp <= 100:
                return "min_percent not a number in 0..100"
            if "year" in t and type(t["year"]) is not int:
                return "target year not an integer"
        return None
    if kind == OBJ:
        return None if isinstance(v, dict) else "not an object"
    return "unknown kind"


def strings(v):
    if isinstance(v, str):
        yield v
    elif isinstance(v, dict):
        for x in v.values():
            yield from strings(x)
    elif isinstance(v, list):
        for x in v:
            yield from strings(x)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--now", default=None, help="the moment of appending (default: now)")
    ap.add_argument("--max-errors", type=int, default=20)
    ap.add_argument("--stats", action="store_true", help="print counts per type and sizes")
    a = ap.parse_args(argv)
    now = (datetime.datetime.fromisoformat(a.now) if a.now
           else datetime.datetime.now(datetime.timezone.utc))
    lo = datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=7)))
    errors = []

    def err(ln, msg):
        errors.append("line %d: %s" % (ln, msg))
        if len(errors) >= a.max_errors:
            raise StopIteration

    ids = {}  # id -> type
    units = set()
    last_rec = None
    types = collections.Counter()
    nbytes = 0
    maxlen = 0
    n = 0
    try:
        with open(a.file, "rb") as f:
            for ln, raw in enumerate(f, 1):
                n += 1
                nbytes += len(raw)
                maxlen = max(maxlen, len(raw))
                if len(raw.rstrip(b"\n")) > 1 << 20:
                    err(ln, "line longer than 1 MiB")
                try:
                    ev = json.loads(raw)
                except ValueError as e:
                    err(ln, "not JSON: %s" % e)
                    continue
                if not isinstance(ev, dict):
                    err(ln, "not an object")
                    continue
                extra = set(ev) - ENVELOPE
                if extra:
                    err(ln, "unknown envelope fields %s" % sorted(extra))
                eid, typ, unit, data = ev.get("id"), ev.get("type"), ev.get("unit"), ev.get("data")
                if not isinstance(eid, str) or not ID.fullmatch(eid):
                    err(ln, "bad id %r" % (eid,))
                elif eid in ids:
                    err(ln, "duplicate id %s" % eid)
                if typ not in CATALOG:
                    err(ln, "unknown type %r" % (typ,))
                    continue
                types[typ] += 1
                occ, rec = parse_ts(ev.get("occurred_at")), parse_ts(ev.get("recorded_at"))
                if occ is None:
                    err(ln, "bad occurred_at %r" % ev.get("occurred_at"))
                if rec is None:
                    err(ln, "bad or missing recorded_at %r" % ev.get("recorded_at"))
                if occ and rec:
                    if occ > rec:
                        err(ln, "occurred_at after recorded_at")
                    for t in (occ, rec):
                        if not lo <= t <= now:
                            err(ln, "time %s outside 2000-01-01..now" % t.isoformat())
                    if last_rec and rec < last_rec:
                        err(ln, "recorded_at goes backwards (%s < %s)" % (rec, last_rec))
                    last_rec = rec
                # A forget is the store's act: its record may name no unit.
                if unit is None and typ == "person.forgotten":
                    pass
                elif not isinstance(unit, str) or not UNIT.fullmatch(unit):
                    err(ln, "bad unit %r" % (unit,))
                if "case" in ev and (not isinstance(ev["case"], str) or not ID.fullmatch(ev["case"])):
                    err(ln, "bad case %r" % ev["case"])
                if typ in CASE_REQUIRED and "case" not in ev:
                    err(ln, "%s without case" % typ)
                if "actor" in ev and not isinstance(ev["actor"], str):
                    err(ln, "actor not a string")
                if not isinstance(data, dict):
                    err(ln, "data not an object")
                    continue
                spec = CATALOG[typ]
                for k, v in data.items():
                    if k not in spec:
                        err(ln, "%s: unknown field data.%s" % (typ, k))
                        continue
                    m = check_value(spec[k][0], v)
                    if m:
                        err(ln, "%s: data.%s %s" % (typ, k, m))
                for k, (_, req) in spec.items():
                    if req and k not in data:
                        err(ln, "%s: missing data.%s" % (typ, k))
                for s in strings(ev):
                    if DIGIT_RUN.search(s):
                        err(ln, "a 9- or 12-digit run in %r" % s)
                if typ == "unit.established":
                    if unit in units:
                        err(ln, "unit %s established twice" % unit)
                    par = data.get("parent")
                    if data.get("level") == "country":
                        if par is not None:
                            err(ln, "country with a parent")
                    elif par is None:
                        pass
                    elif par not in units:
                        err(ln, "parent %s not established" % par)
                    units.add(unit)
                else:
                    if unit not in units and not (unit is None and typ == "person.forgotten"):
                        err(ln, "unit %s not established earlier" % unit)
                    if typ == "unit.merged" and data.get("into") not in units:
                        err(ln, "into %s not established" % data.get("into"))
                    if typ == "unit.moved" and data.get("parent") not in units:
                        err(ln, "parent %s not established" % data.get("parent"))
                if typ in ("event.corrected", "event.voided"):
                    tgt = data.get("target")
                    tt = ids.get(tgt)
                    if tt is None:
                        err(ln, "target %s is not an earlier event" % tgt)
                    elif tt in ("event.corrected", "event.voided"):
                        err(ln, "target %s is itself a %s" % (tgt, tt))
                    elif typ == "event.corrected":
                        ch = data.get("changes")
                        if isinstance(ch, dict):
                            if not ch:
                                err(ln, "empty changes")
                            for k, v in ch.items():
                                if k not in CATALOG[tt]:
                                    err(ln, "changes.%s is not a field of %s" % (k, tt))
                                else:
                                    m = check_value(CATALOG[tt][k][0], v)
                                    if m:
                                        err(ln, "changes.%s %s" % (k, m))
                if isinstance(eid, str):
                    ids[eid] = typ
    except StopIteration:
        pass
    for e in errors:
        print(e)
    if a.stats or not errors:
        print("%d events, %d bytes, average line %.0f bytes, longest %d" %
              (n, nbytes, nbytes / max(1, n), maxlen))
    if a.stats:
        for t, c in types.most_common():
            print("  %-26s %9d  %5.2f %%" % (t, c, 100.0 * c / max(1, n)))
    if errors:
        print("INVALID: %d error(s) shown%s" % (len(errors), " (stopped early)" if len(errors) >= a.max_errors else ""))
        return 1
    print("valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
