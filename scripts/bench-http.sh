#!/usr/bin/env bash
# HTTP benchmark (issue 6): a release `regelbank serve` on loopback with N generated regelingen
# loaded, measured with wrk.
#   1. reads, spread over all loaded regelingen: GET /api/v1/expressies/{expression} (the
#      consolidated text of a regeling version, JSON) and GET /api/v1/regelingen/{work}?geldigOp=…
#      (the text in force: time travel through the toestanden to the same version);
#   2. uploads: small generated deliveries POSTed one after another by C concurrent clients,
#      timed from the first POST until every one is processed (status final).
# Settings: BENCH_READS ("expressies tijdreis": the read routes), BENCH_REGELINGEN (1000),
# BENCH_ARTIKELEN (20), BENCH_DURATION (20s), BENCH_CONNECTIONS ("8 32": one wrk run per value),
# BENCH_SERVE_ARGS (extra serve options, e.g. "--cache-mb 0"), BENCH_THREADS (1),
# BENCH_UPLOADS (500; 0 skips the uploads), BENCH_UPLOAD_CLIENTS (4),
# REGELBANK_BIN (target/release/regelbank; build it first). Needs wrk, curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${BENCH_REGELINGEN:-1000}
ART=${BENCH_ARTIKELEN:-20}
DUR=${BENCH_DURATION:-20s}
CONNS=${BENCH_CONNECTIONS:-8 32}
THREADS=${BENCH_THREADS:-1}
UPLOADS=${BENCH_UPLOADS:-500}
CLIENTS=${BENCH_UPLOAD_CLIENTS:-4}
BIN=${REGELBANK_BIN:-target/release/regelbank}
[ -x "$BIN" ] || cargo build --release -p regelbank
WORK=$(mktemp -d /tmp/regelbank-bench-http.XXXXXX)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "generating and ingesting $N regelingen ($ART artikelen each) ..."
"$BIN" generate --out "$WORK/gen" --count "$N" --artikelen "$ART" --no-gio --prefix bench >/dev/null
t0=$(date +%s.%N)
"$BIN" --data "$WORK/data" --today 2027-03-01 ingest "$WORK"/gen/* >/dev/null
echo "ingest: $(python3 -c "print(round($(date +%s.%N)-$t0,1))") s"
printf '[[aanleveraar]]\noin = "00000001000000990100"\ntoken = "bench"\nbevoegde_gezagen = ["00000001000000990100"]\n' >"$WORK/auth.toml"
"$BIN" --data "$WORK/data" --today 2027-03-01 serve --addr 127.0.0.1:0 --auth "$WORK/auth.toml" ${BENCH_SERVE_ARGS:-} >"$WORK/serve.out" 2>/dev/null &
SERVER=$!
for _ in $(seq 100); do grep -q listening "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
BASE=$(sed -n 's/^regelbank: listening on //p' "$WORK/serve.out")
echo "server: $BASE (pid $SERVER)"

# 1. reads: one wrk run per read route and connection count
reads() { # NAME PATH-WITH-{i}
  python3 - "$N" "$2" >"$WORK/$1.lua" <<'PY'
import sys
n, pad = int(sys.argv[1]), sys.argv[2]
print("paths = {")
for i in range(n):
    print('  "' + pad.replace("{i}", str(i)) + '",')
print("}")
print("i = 0")
print("request = function() i = i % #paths + 1; return wrk.format('GET', paths[i]) end")
PY
  local one=${2//\{i\}/0}
  curl -sf "$BASE$one" -D "$WORK/$1.headers" -o "$WORK/$1.json"
  echo "one response: $(stat -c %s "$WORK/$1.json") bytes (JSON tree of $ART artikelen)"
  grep -i '^expressie:' "$WORK/$1.headers" || true
  wrk -t1 -c8 -d3s -s "$WORK/$1.lua" "$BASE" >/dev/null   # warm-up
  for CONN in $CONNS; do
    echo "--- GET $3: wrk -t$THREADS -c$CONN -d$DUR --latency"
    wrk -t"$THREADS" -c"$CONN" -d"$DUR" --latency -s "$WORK/$1.lua" "$BASE"
  done
}
for R in ${BENCH_READS:-expressies tijdreis}; do
  case $R in
    # the text of a given version
    expressies) reads expressies "/api/v1/expressies/akn/nl/act/gm9901/2027/bench-{i}-regeling1/nld@2027-03-09;1" \
      "/api/v1/expressies/{expression}" ;;
    # the text in force (time travel: resolved through the toestanden, then the same text)
    tijdreis) reads tijdreis "/api/v1/regelingen/akn/nl/act/gm9901/2027/bench-{i}-regeling1?geldigOp=2027-06-01&beschikbaarOp=2027-06-01" \
      "/api/v1/regelingen/{work}?geldigOp=2027-06-01&beschikbaarOp=2027-06-01" ;;
    *) echo "unknown read benchmark $R" >&2; exit 2 ;;
  esac
done

# 2. uploads
[ "$UPLOADS" -gt 0 ] || exit 0
echo "--- uploads: $UPLOADS small deliveries (1 regeling of $ART artikelen, with GIO), $CLIENTS clients"
"$BIN" generate --out "$WORK/up" --count "$UPLOADS" --artikelen "$ART" --zip --prefix upload >/dev/null
echo "package size: $(stat -c %s "$WORK"/up/upload-00000.zip) bytes"
python3 - "$BASE" "$WORK/up" "$CLIENTS" <<'PY'
import concurrent.futures, glob, json, sys, time, urllib.request
base, d, clients = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = sorted(glob.glob(d + "/*.zip"))
def up(p):
    req = urllib.request.Request(base + "/api/v1/leveringen", data=open(p, "rb").read(), method="POST",
        headers={"Authorization": "Bearer bench", "Content-Type": "application/zip"})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        assert r.status == 202
        return json.load(r)["id"], time.perf_counter() - t
t0 = time.perf_counter()
with concurrent.futures.ThreadPoolExecutor(clients) as ex:
    acks = list(ex.map(up, files))
t_ack = time.perf_counter() - t0
lat = sorted(a[1] for a in acks)
pending = [a[0] for a in acks]
while pending:
    last = pending[-1]
    st = json.load(urllib.request.urlopen(base + "/api/v1/leveringen/" + last))["status"]
    if st in ("ontvangen", "in-behandeling"):
        time.sleep(0.05); continue
    pending = [i for i in pending if json.load(urllib.request.urlopen(base + "/api/v1/leveringen/" + i))["status"] in ("ontvangen", "in-behandeling")]
t_all = time.perf_counter() - t0
bad = [i for i, _ in acks if json.load(urllib.request.urlopen(base + "/api/v1/leveringen/" + i))["status"] != "gepubliceerd"]
n = len(files)
print(f"acknowledged {n} uploads in {t_ack:.2f} s ({n/t_ack:.0f}/s); 202 latency p50 {lat[n//2]*1000:.1f} ms, p99 {lat[int(n*0.99)]*1000:.1f} ms")
print(f"all {n} processed in {t_all:.2f} s ({n/t_all:.0f} deliveries/s); not gepubliceerd: {len(bad)}")
PY
