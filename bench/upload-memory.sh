#!/usr/bin/env bash
# The service's peak memory (VmHWM) while it receives one upload, by file size: an upload is
# streamed in 256 KiB chunks, so the peak must not grow with the file (BENCHMARKS.md).
#   bench/upload-memory.sh                       # 5 MB and 50 MB, 3 runs each, SQLite and PostgreSQL
#   SIZES="1 50" RUNS=1 bench/upload-memory.sh --postgres postgres://postgres@127.0.0.1:5432/postgres
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
profile="${BENCH_PROFILE:-release}"
pg="postgres://postgres@127.0.0.1:5432/postgres"
[ "${1:-}" = "--postgres" ] && pg="$2"
cargo build --quiet --profile "$profile" --bin rongcuo
bin="$CARGO_TARGET_DIR/$profile/rongcuo"
[ "$profile" = dev ] && bin="$CARGO_TARGET_DIR/debug/rongcuo"
sizes="${SIZES:-5 50}"
runs="${RUNS:-3}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }
# The largest RssAnon (heap and stacks) seen every 20 ms until the file $2 appears.
sample() {
    local max=0 v
    while [ ! -e "$2" ]; do
        v=$(kib "$1" RssAnon 2>/dev/null || echo 0)
        [ "${v:-0}" -gt "$max" ] && max=$v
        sleep 0.02
    done
    echo "$max" > "$2.max"
}

echo "| backend | file | run | RssAnon before (MiB) | RssAnon peak during (MiB) | VmHWM before → after (MiB) | answer, time |"
echo "|---|---|---|---|---|---|---|"
for backend in sqlite postgres; do
    for mb in $sizes; do
        file="$work/$mb.pdf"
        { printf '%%PDF-1.7\n'; head -c $((mb * 1000 * 1000 - 16)) /dev/urandom; printf '\n%%%%EOF\n'; } > "$file"
        for run in $(seq 1 "$runs"); do
            port=$((20000 + RANDOM % 20000))
            if [ "$backend" = sqlite ]; then
                url="sqlite://$work/r-$mb-$run.db"
            else
                db="rongcuo_mem_$$_${mb}_$run"
                psql "$pg" -qc "CREATE DATABASE $db" >/dev/null
                url="${pg%/*}/$db"
            fi
            RONGCUO_LISTEN="127.0.0.1:$port" RONGCUO_DATABASE_URL="$url" \
            RONGCUO_ATTACHMENT_MAX_FILE_BYTES=$((64 << 20)) RONGCUO_ATTACHMENT_MAX_CASE_BYTES=$((256 << 20)) \
            RONGCUO_MAIL_DIR="$work/mail" RONGCUO_LOG_FORMAT=json "$bin" serve >"$work/log" 2>&1 &
            pid=$!
            for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.1; done
            token=$("$bin" token --sub u-zhang --name 张三 --email zhang@example.cn --role cadre --org anhui/hefei/finance)
            id=$(curl -sf -X POST "http://127.0.0.1:$port/api/v1/exonerations" \
                -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
                -d '{"incident": {"title": "先检查后补招标", "description": "事故后先委托中介检查，招标事后补办。", "occurred_on": "2026-03-10"}, "circumstances": ["sanming-1"], "remedial_actions": "补办招标手续。"}' \
                | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
            before=$(kib $pid VmHWM)
            anon=$(kib $pid RssAnon)
            rm -f "$work/done" "$work/done.max"
            sample $pid "$work/done" &
            sampler=$!
            status=$(curl -s -o /dev/null -w '%{http_code}, %{time_total} s' -X POST \
                "http://127.0.0.1:$port/api/v1/exonerations/$id/attachments" \
                -H "Authorization: Bearer $token" -H 'Content-Type: application/pdf' \
                -H "Content-Disposition: attachment; filename=\"$mb.pdf\"" --data-binary @"$file")
            after=$(kib $pid VmHWM)
            touch "$work/done"; wait $sampler
            peak=$(cat "$work/done.max")
            kill $pid; wait $pid 2>/dev/null || true
            [ "$backend" = postgres ] && psql "$pg" -qc "DROP DATABASE $db WITH (FORCE)" >/dev/null
            awk -v b="$backend" -v m="$mb" -v r="$run" -v a="$anon" -v p="$peak" -v x="$before" -v y="$after" -v s="$status" \
                'BEGIN { printf "| %s | %s MB | %s | %.1f | %.1f | %.1f → %.1f | %s |\n", b, m, r, a/1024, p/1024, x/1024, y/1024, s }'
        done
    done
done
