#!/usr/bin/env bash
# Before the maintenance window, on the deployment host: can this machine do what the stack's steps do?
# Read-only checks, from the stack's plan (the very steps `pulumi up` runs):
#   - kubectl may patch Argo CD applications and every application of the waves exists;
#   - the site's kube context is in the kubeconfig (the cleanup runs k8s-admin's scripts on it alone);
#   - the k8s-admin scripts the cleanup runs (`cd ~/k8s-admin && ./cleanup_all -d`) are there;
#   - every bare-metal machine answers over ssh (BatchMode: no password prompt in the middle of an update);
#   - gh is logged in when pull requests are merged with gh;
#   - the site's CSC commands (stateCommand, stateProbe) are there.
# Usage: scripts/lsst/preflight.sh <stack>      (exit 0: all good; 1: something to fix, listed)
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 2
stack="${1:?usage: scripts/lsst/preflight.sh <stack>}"
plan=$(node bin/plan.js --stack "$stack" --format json) || exit 2

# One check per line: "<kind>\t<what>" (kinds: kubectl, app, context, script, ssh, gh, command), in the order of the steps.
# shellcheck disable=SC2016 # JavaScript, not shell
checks=$(node -e '
const plan = JSON.parse(require("fs").readFileSync(0, "utf8"));
if (plan.procedure !== "lsst-site-upgrade") { console.error(`stack ${plan.stack} runs ${plan.procedure}, not lsst-site-upgrade`); process.exit(2); }
const out = new Set();
for (const s of plan.steps) {
    const p = s.params;
    if (s.kind === "argocd-sync") {
        out.add(`kubectl\t${p.kubectl}\t${p.namespace}`);
        out.add(`app\t${p.kubectl}\t${p.namespace}\t${p.app}`);
    }
    if (s.kind === "k8s-cleanup" && p.context) {
        out.add(`context\t${p.kubectl}\t${p.context}`);
        // k8s-admin scripts run from their checkout: `cd <dir> && ./<script> [flags]`.
        const m = /^cd\s+(\S+)\s*&&\s*\.\/(\S+)/.exec(String(p.command));
        if (m) out.add(`script\t${m[1]}/${m[2]}`);
    }
    if (["baremetal-service", "daemon-cleanup", "config-update"].includes(s.kind) && p.host && /^ssh\s/.test(p.command)) out.add(`ssh\t${p.host}`);
    if (s.kind === "config-update" && /^gh\s/.test(p.command || "")) out.add("gh\t");
    if (s.kind === "csc-state") for (const c of [p.command, p.probe]) out.add(`command\t${String(c).split(/\s+/)[0]}`);
}
process.stdout.write([...out].join("\n") + "\n");
' <<<"$plan") || exit 2

failed=0
report() { # status, what, detail
    if [ "$1" = ok ]; then printf '  ok    %s\n' "$2"; else printf '  FAIL  %s: %s\n' "$2" "$3"; failed=1; fi
}
echo "preflight of stack $stack ($(printf '%s\n' "$checks" | grep -c .) checks)"
while IFS=$'\t' read -r kind a b c; do
    case "$kind" in
        kubectl)
            # shellcheck disable=SC2086 # the kubectl line is a command prefix (e.g. "kubectl --context tts")
            if out=$($a auth can-i patch applications.argoproj.io -n "$b" 2>&1); then report ok "$a may patch applications in $b"; else report fail "$a may patch applications in $b" "$(tail -n 1 <<<"$out")"; fi ;;
        app)
            # shellcheck disable=SC2086
            if out=$($a get applications.argoproj.io "$c" -n "$b" -o name 2>&1); then report ok "Argo CD application $c"; else report fail "Argo CD application $c" "$(tail -n 1 <<<"$out")"; fi ;;
        context)
            # shellcheck disable=SC2086
            if out=$($a config get-contexts "$b" -o name 2>&1); then report ok "kube context $b"; else report fail "kube context $b" "$(tail -n 1 <<<"$out")"; fi ;;
        script)
            path="${a/#\~/$HOME}"
            if [ -x "$path" ]; then report ok "cleanup script $a"; else report fail "cleanup script $a" "not found or not executable"; fi ;;
        ssh)
            if out=$(ssh -o BatchMode=yes -o ConnectTimeout=10 "$a" true 2>&1); then report ok "ssh $a"; else report fail "ssh $a" "$(tail -n 1 <<<"$out")"; fi ;;
        gh)
            if out=$(gh auth status 2>&1); then report ok "gh is logged in"; else report fail "gh is logged in" "$(tail -n 1 <<<"$out")"; fi ;;
        command)
            path="${a/#\~/$HOME}"
            if [ -x "$path" ] || command -v "$path" >/dev/null 2>&1; then report ok "CSC command $a"; else report fail "CSC command $a" "not found or not executable"; fi ;;
    esac
done <<<"$checks"
[ "$failed" = 0 ] && echo "all good" || echo "fix the failed checks before the upgrade"
exit "$failed"
