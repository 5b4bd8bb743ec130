"""Write fixtures/rules/<CODE>.toml case files from Python data (dev helper, not used by tests).

case(code, fout=[edits], goed=[edits], naam=..., basis=..., voor=[...], vandaag=..., gevallen=[dict])
edit: ("vervang", bestand, zoek, door) | ("verwijder", naam) | ("bestand", naam, inhoud)
"""
import json, os, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "rules")

def s(x):
    return json.dumps(x, ensure_ascii=False)

def edits_toml(prefix, edits):
    out = [f"[{prefix}]"]
    vv = [e for e in edits if e[0] == "vervang"]
    vw = [e for e in edits if e[0] == "verwijder"]
    bs = [e for e in edits if e[0] == "bestand"]
    if vv:
        out.append("vervang = [")
        for _, b, z, d in vv:
            out.append(f"  {{ bestand = {s(b)}, zoek = {s(z)}, door = {s(d)} }},")
        out.append("]")
    if vw:
        out.append("verwijder = [" + ", ".join(s(e[1]) for e in vw) + "]")
    if bs:
        out.append("bestanden = [")
        for _, n, i in bs:
            out.append(f"  {{ naam = {s(n)}, inhoud = {s(i)} }},")
        out.append("]")
    return out

def geval_toml(g, table=None):
    out = []
    keys = []
    for k in ("naam", "basis", "vandaag"):
        if g.get(k):
            keys.append(f"{k} = {s(g[k])}")
    if g.get("voor"):
        keys.append("voor = [" + ", ".join(s(v) for v in g["voor"]) + "]")
    if g.get("schemas"):
        keys.append("schemas = true")
    if g.get("schemas_goed") is not None:
        keys.append("schemas_goed = " + ("true" if g["schemas_goed"] else "false"))
    if g.get("zonder_opslag"):
        keys.append("zonder_opslag = true")
    if g.get("voor_goed") is not None:
        keys.append("voor_goed = [" + ", ".join(s(v) for v in g["voor_goed"]) + "]")
    out.extend(keys)
    p = (table + ".") if table else ""
    out.extend(edits_toml(p + "fout", g["fout"]))
    out.extend(edits_toml(p + "goed", g.get("goed", [])))
    return out

def case(code, **g):
    gevallen = g.pop("gevallen", [])
    lines = [f"code = {s(code)}"]
    if g.get("fout") is not None:
        lines.extend(geval_toml(g))
    else:
        for k in ("basis", "vandaag"):
            if g.get(k):
                lines.append(f"{k} = {s(g[k])}")
        if g.get("voor"):
            lines.append("voor = [" + ", ".join(s(v) for v in g["voor"]) + "]")
    for x in gevallen:
        lines.append("")
        lines.append("[[geval]]")
        lines.extend(geval_toml(x, "geval"))
    with open(os.path.join(ROOT, f"{code}.toml"), "w") as f:
        f.write("\n".join(lines) + "\n")
