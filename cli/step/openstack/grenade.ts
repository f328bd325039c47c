import * as fs from "fs";
import * as path from "path";
import { shellWords } from "../../../components/core/shell-quote";
import { SavedResources } from "../../../components/openstack/survival";

/**
 * The GRENADE_DIR the survival steps run plugins in, so that a grenade plugin written for grenade runs
 * unchanged: `grenaderc` (grenade's environment), `functions` (the devstack functions grenade's own
 * `functions` pulls in, grenade's helpers, the plugin interface and the save database), `pluginrc`
 * (one `enable_grenade_plugin` per configured plugin) and `run-phase`, which does for one project
 * what grenade.sh does around it: load the settings, then call the project's script.
 *
 * Everything lives under STACK_ROOT (kept across phases, as grenade keeps /opt/stack): SAVE_DIR with
 * its files and the one save database `$SAVE_DIR/grenade_db.ini`. The step restores the database from
 * its `saved` input (the previous step's output, so a resumed update has it from the Pulumi state)
 * and hands it on as its `saved` output.
 */

export const GRENADERC = `# grenaderc of the upgrade runbook's survival steps: grenade's configuration variables.
# The caller sets STACK_ROOT, BASE_RELEASE, TARGET_RELEASE and the devstack folders.
RC_DIR=$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)
if [ -f "$RC_DIR/localrc" ]; then
    source "$RC_DIR/localrc"
fi
GRENADE_USE_EXTERNAL_DEVSTACK=\${GRENADE_USE_EXTERNAL_DEVSTACK:-True}
STACK_ROOT=\${STACK_ROOT:-/opt/stack}
DATA_DIR=$STACK_ROOT/data
BASE_RELEASE=\${BASE_RELEASE:-old}
BASE_RELEASE_DIR=$STACK_ROOT/$BASE_RELEASE
TARGET_RELEASE=\${TARGET_RELEASE:-new}
TARGET_RELEASE_DIR=$STACK_ROOT/$TARGET_RELEASE
BASE_DEVSTACK_DIR=\${BASE_DEVSTACK_DIR:-$BASE_RELEASE_DIR/devstack}
TARGET_DEVSTACK_DIR=\${TARGET_DEVSTACK_DIR:-$TARGET_RELEASE_DIR/devstack}
SAVE_DIR=$STACK_ROOT/save
LOGDIR=\${LOGDIR:-$STACK_ROOT/logs}
SCREEN_LOGDIR=$STACK_ROOT/logs/screen
ACTIVE_TIMEOUT=\${ACTIVE_TIMEOUT:-120}
SERVICE_TIMEOUT=\${SERVICE_TIMEOUT:-30}
VERIFY_RESOURCES=\${VERIFY_RESOURCES:-True}
# Filled by the plugins' settings (register_project_for_upgrade).
declare -A PLUGIN_DIR
UPGRADE_PROJECTS=""
`;

/** Devstack's functions that grenade plugins rely on, for sites without a devstack tree. */
const DEVSTACK_SUBSET = `# --- the devstack functions plugins use (a real $TARGET_DEVSTACK_DIR/functions replaces them) ---
function backtrace {
    local frame=\${1:-1}
    while caller $frame; do frame=$((frame + 1)); done
}
function err {
    local line=$1; shift
    echo "[ERROR] \${BASH_SOURCE[2]:-$0}:$line $*" >&2
}
function warn {
    local line=$1; shift
    echo "WARNING: \${BASH_SOURCE[2]:-$0}:$line $*" >&2
}
# die $LINENO "message": the caller's line and a message; keeps a failing command's exit code.
function die {
    local exitcode=$?
    set +o xtrace
    local line=$1
    if [[ "$line" =~ ^[0-9]+$ ]]; then shift; else line="?"; fi
    [ "$exitcode" -eq 0 ] && exitcode=1
    err "$line" "$*"
    exit $exitcode
}
function die_if_not_set {
    local exitcode=$?
    local line=$1 evar=$2; shift 2
    if [ -z "\${!evar}" ]; then die "$line" "$*"; fi
    return $exitcode
}
function deprecated { echo "WARNING: $*" >&2; }
function echo_summary { echo "$@" >&2; }
function trueorfalse {
    local default=$1
    local value=\${!2:-$default}
    case "$value" in
        1|yes|Yes|YES|true|True|TRUE|on|On|ON) echo True;;
        0|no|No|NO|false|False|FALSE|off|Off|OFF) echo False;;
        *) echo "$default";;
    esac
}
function GetDistro {
    os_VENDOR=$(. /etc/os-release 2>/dev/null; echo "\${ID:-unknown}")
    os_RELEASE=$(. /etc/os-release 2>/dev/null; echo "\${VERSION_ID:-}")
    os_CODENAME=$(. /etc/os-release 2>/dev/null; echo "\${VERSION_CODENAME:-}")
    os_PACKAGE=deb
    DISTRO=$os_CODENAME
}
# is_service_enabled service...: devstack's check against ENABLED_SERVICES, with its project groups.
function is_service_enabled {
    local s
    for s in "$@"; do
        [[ ,\${ENABLED_SERVICES:-}, == *,$s,* ]] && return 0
        case $s in
            nova) [[ ,\${ENABLED_SERVICES:-} == *,n-* ]] && return 0;;
            cinder) [[ ,\${ENABLED_SERVICES:-} == *,c-* ]] && return 0;;
            glance) [[ ,\${ENABLED_SERVICES:-} == *,g-* ]] && return 0;;
            neutron) [[ ,\${ENABLED_SERVICES:-} == *,q-* || ,\${ENABLED_SERVICES:-} == *,neutron-* ]] && return 0;;
            swift) [[ ,\${ENABLED_SERVICES:-} == *,s-* ]] && return 0;;
        esac
    done
    return 1
}
function enable_service {
    local s
    for s in "$@"; do
        is_service_enabled "$s" || ENABLED_SERVICES=\${ENABLED_SERVICES:+$ENABLED_SERVICES,}$s
    done
}
function disable_service {
    local s
    for s in "$@"; do
        ENABLED_SERVICES=$(echo ",$ENABLED_SERVICES," | sed "s/,$s,/,/g; s/^,//; s/,$//")
    done
}
# iniget file section option: the option's value ("key = value" under [section]), nothing if absent.
function iniget {
    local file=$1
    [ -f "$file" ] || return 0
    INI_S=$2 INI_O=$3 awk '
        /^\\[.*\\]$/ { inside = ($0 == "[" ENVIRON["INI_S"] "]"); next }
        inside {
            line = $0; sub(/^[ \\t]+/, "", line); n = index(line, "=")
            if (n > 0) { k = substr(line, 1, n - 1); sub(/[ \\t]+$/, "", k)
                if (k == ENVIRON["INI_O"]) { v = substr(line, n + 1); sub(/^[ \\t]+/, "", v); print v; exit } }
        }' "$file"
}
# iniset file section option value: set (or add) the option; the file is replaced whole, never half-written.
function iniset {
    local file=$1 section=$2 option=$3 value=$4
    if [[ -z "$section" || -z "$option" ]]; then
        echo "iniset: section and option are needed ($file)" >&2
        return 1
    fi
    touch "$file"
    local tmp
    tmp=$(mktemp "$file.XXXXXX") || return 1
    INI_S=$section INI_O=$option INI_V=$value awk '
        function put() { print ENVIRON["INI_O"] " = " ENVIRON["INI_V"]; done = 1 }
        /^\\[.*\\]$/ { if (inside && !done) put(); inside = ($0 == "[" ENVIRON["INI_S"] "]"); if (inside) seen = 1; print; next }
        inside && !done {
            line = $0; sub(/^[ \\t]+/, "", line); n = index(line, "=")
            if (n > 0) { k = substr(line, 1, n - 1); sub(/[ \\t]+$/, "", k); if (k == ENVIRON["INI_O"]) { put(); next } }
        }
        { print }
        END { if (inside && !done) put(); else if (!seen) { print "[" ENVIRON["INI_S"] "]"; put() } }' "$file" > "$tmp" && mv "$tmp" "$file"
}
`;

const GRENADE_HELPERS = `# --- grenade's own helpers ---
function source_quiet {
    local xtrace
    xtrace=$(set +o | grep xtrace)
    set +o xtrace
    source "$@"
    $xtrace
}
# ping_check_public ip timeout [True|False]: wait until the address answers (or, with False, stops answering).
function ping_check_public {
    local ip=$1 boot_timeout=$2 expected=\${3:-True}
    local check="while ! ping -c1 -w1 $ip; do sleep 1; done"
    [ "$expected" = True ] || check="while ping -c1 -w1 $ip; do sleep 1; done"
    if ! timeout "$boot_timeout" sh -c "$check"; then
        if [ "$expected" = True ]; then die $LINENO "[Fail] Couldn't ping server"; else die $LINENO "[Fail] Could ping server"; fi
    fi
}
# worlddump [name]: the state of the machine into LOGDIR, with devstack's tool when it is there.
function worlddump {
    local name=$1
    mkdir -p "$LOGDIR"
    if [[ -x $TARGET_DEVSTACK_DIR/tools/worlddump.py ]]; then
        "$TARGET_DEVSTACK_DIR/tools/worlddump.py" \${name:+-n "$name"} -d "$LOGDIR"
    else
        local out=$LOGDIR/worlddump-$(date +%Y-%m-%d-%H%M%S)\${name:+-$name}.txt
        { date -u; echo "== processes"; ps -eo pid,args 2>/dev/null | head -n 200; echo "== disk"; df -h 2>/dev/null; } > "$out" || true
        echo "worlddump: $out" >&2
    fi
}
# ssh without waiting long or keeping host keys: hosts come and go during an upgrade.
FSSH="ssh -v -o ConnectTimeout=10 -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no"

function exit_trap {
    local r=$?
    set +o xtrace
    set +o errexit
    if [[ $r -ne 0 ]]; then
        local frame=0
        while caller $frame; do frame=$((frame + 1)); done
        echo "Exit code: $r"
        worlddump
    fi
    exit $r
}
trap exit_trap EXIT

function is_service_running {
    ps auxw | grep -v grep | grep -v shutdown.sh | grep -v upgrade.sh | grep -e "$1" > /dev/null
}
function ensure_services_stopped {
    local wait_for=$SERVICE_TIMEOUT still_running s
    while [ "$wait_for" -gt 0 ]; do
        still_running=""
        for s in "$@"; do is_service_running "$s" && still_running+=" $s"; done
        [ -z "$still_running" ] && return 0
        sleep 1; wait_for=$((wait_for - 1))
    done
    die $LINENO "The following services are still running: $still_running"
}
function ensure_services_started {
    local wait_for=$SERVICE_TIMEOUT not_running s
    while [ "$wait_for" -gt 0 ]; do
        not_running=""
        for s in "$@"; do is_service_running "$s" || not_running+=" $s"; done
        [ -z "$not_running" ] && return 0
        sleep 1; wait_for=$((wait_for - 1))
    done
    die $LINENO "The following services did not appear to start: $not_running"
}

# --- the plugin interface (grenade's inc/plugin and inc/upgrade) ---
GRENADE_DB=$SAVE_DIR/grenade_db.ini
declare -A GITDIR GITREPO GITBRANCH
GRENADE_PLUGINS=\${GRENADE_PLUGINS:-}
DATABASES_TO_SAVE=\${DATABASES_TO_SAVE:-}
GRENADE_LOCALRC_BASE=()
GRENADE_LOCALRC_TARGET=()

function reverse_list {
    local s reversed=""
    for s in $@; do reversed="$s $reversed"; done
    echo $reversed
}
function init_grenade_db {
    mkdir -p "$SAVE_DIR"
    echo "" > "$GRENADE_DB"
}
# resource_save project key value: one database for every project, as grenade keeps it.
function resource_save {
    local project=$1 key=$2 value=$3
    iniset $GRENADE_DB $project $key $value
}
function resource_get {
    local project=$1 key=$2
    local value
    value=$(iniget $GRENADE_DB $project $key)
    echo $value
}
# register_project_for_upgrade project: called from a plugin's settings; its folder is the plugin's.
function register_project_for_upgrade {
    local project=$1
    local settings_file
    settings_file=$(caller | awk '{print $2}')
    UPGRADE_PROJECTS+=" $project"
    PLUGIN_DIR[$project]=$(cd "$(dirname "$settings_file")" && pwd)
}
function register_db_to_save {
    local db
    for db in "$@"; do DATABASES_TO_SAVE+=" $db"; done
}
# devstack_localrc base|target line...: what the plugin adds to that side's devstack localrc. With an
# external devstack (this runner's default, as no stack.sh runs here) grenade ignores it; the lines are
# recorded for the step's result, so a site sees what to add to its devstack's configuration.
function devstack_localrc {
    local where=$1; shift
    if [ "\${GRENADE_USE_EXTERNAL_DEVSTACK}" == "True" ]; then
        echo "DevStack is configured externally, ignoring devstack_localrc $where $*" >&2
    fi
    case $where in
        base) GRENADE_LOCALRC_BASE+=("$*");;
        target) GRENADE_LOCALRC_TARGET+=("$*");;
        *) die $LINENO "devstack_localrc: base or target, not '$where'";;
    esac
}
# enable_grenade_plugin name url|folder [branch]: a local folder is the plugin's checkout; for a URL the
# checkout is expected in \${PLUGIN_DIR:-$STACK_ROOT/plugins}/name (fetched by the site's provisioning).
function enable_grenade_plugin {
    local name=$1 url=$2 branch=\${3:-master}
    GRENADE_PLUGINS+=",$name"
    GITREPO[$name]=$url
    GITBRANCH[$name]=$branch
    case $url in
        /*) GITDIR[$name]=$url;;
        file://*) GITDIR[$name]=\${url#file://};;
        *) GITDIR[$name]=$STACK_ROOT/plugins/$name;;
    esac
}
function load_settings {
    local plugin
    for plugin in \${GRENADE_PLUGINS//,/ }; do
        local dir=\${GITDIR[$plugin]}
        if [[ -f $dir/devstack/upgrade/settings ]]; then
            echo "Loading settings for $plugin from $dir/devstack/upgrade/settings" >&2
            source "$dir/devstack/upgrade/settings"
        fi
    done
    export UPGRADE_PROJECTS
}
if [[ -f $GRENADE_DIR/pluginrc ]]; then
    source "$GRENADE_DIR/pluginrc"
fi
`;

export const FUNCTIONS = `# functions of the upgrade runbook's survival steps: what grenade's functions gives a plugin.
_XTRACE_GRENADE_FUNCTIONS=$(set +o | grep xtrace)
set +o xtrace
GRENADE_DIR=$(cd "$(dirname "\${BASH_SOURCE[0]}")" && pwd)
${DEVSTACK_SUBSET}
if [[ -f $TARGET_DEVSTACK_DIR/functions ]]; then
    source "$TARGET_DEVSTACK_DIR/functions"
fi
${GRENADE_HELPERS}
$_XTRACE_GRENADE_FUNCTIONS
`;

/**
 * One project's part of grenade.sh: run-phase <project> resources <phase> [side] | shutdown | upgrade.
 * ENABLED_SERVICES comes from the base devstack's stackrc (as grenade.sh takes it), then the settings are
 * loaded as grenade loads them (which registers the projects and their folders); then the project's
 * script runs with the TOP_DIR grenade gives it. What the settings registered goes to $GRENADE_REPORT.
 */
export const RUN_PHASE = `#!/bin/bash
set -o errexit
project=$1; action=$2; phase=\${3:-}; side=\${4:-}
source "$GRENADE_DIR/grenaderc"
source "$GRENADE_DIR/functions"
trap - EXIT
# grenade.sh takes ENABLED_SERVICES from the base devstack's stackrc (what the base cloud runs), before the
# settings are loaded; without a stackrc, the step's environment gives it.
if [[ -f $BASE_DEVSTACK_DIR/stackrc ]]; then
    ENABLED_SERVICES=$(set +o xtrace && source "$BASE_DEVSTACK_DIR/stackrc" && echo $ENABLED_SERVICES)
fi
export ENABLED_SERVICES
load_settings
{
    echo "UPGRADE_PROJECTS=$(echo $UPGRADE_PROJECTS)"
    echo "DATABASES_TO_SAVE=$(echo $DATABASES_TO_SAVE)"
    echo "ENABLED_SERVICES=$ENABLED_SERVICES"
    for line in "\${GRENADE_LOCALRC_BASE[@]}"; do echo "LOCALRC_BASE=$line"; done
    for line in "\${GRENADE_LOCALRC_TARGET[@]}"; do echo "LOCALRC_TARGET=$line"; done
} > "$GRENADE_REPORT"
dir=\${PLUGIN_DIR[$project]:-}
if [ -z "$dir" ]; then
    echo "Couldn't find project '$project' in plugin list: the plugins' settings register: \${UPGRADE_PROJECTS:-nothing}" >&2
    exit 3
fi
case $action in
    resources) script=$dir/resources.sh; top=$BASE_DEVSTACK_DIR;;
    shutdown) script=$dir/shutdown.sh; top=$BASE_DEVSTACK_DIR;;
    upgrade) script=$dir/upgrade.sh; top=$TARGET_DEVSTACK_DIR;;
    *) echo "run-phase: unknown action $action" >&2; exit 64;;
esac
if [ ! -e "$script" ]; then
    echo "$project: no $(basename "$script") in $dir: nothing to do" >&2
    exit 0
fi
# grenade's resources(): every resource phase is skipped unless VERIFY_RESOURCES is True.
if [ "$action" = resources ] && [ "$VERIFY_RESOURCES" != True ]; then
    echo "Skipping resource phase $phase\${side:+ $side} by configuration (VERIFY_RESOURCES=$VERIFY_RESOURCES)" >&2
    exit 0
fi
if [ "$action" = resources ]; then
    TOP_DIR=$top LOGDIR=$LOGDIR "$script" $phase $side
else
    TOP_DIR=$top "$script"
fi
`;

export interface PluginRef {
    name: string;
    dir: string;
}

/** `enable_grenade_plugin` lines, every value quoted. */
export function pluginrc(plugins: PluginRef[]): string {
    return ["# The configured grenade plugins (stack file: survival.plugins).",
        ...plugins.map(p => shellWords(["enable_grenade_plugin", p.name, path.resolve(p.dir)])), ""].join("\n");
}

/** Write a file whole: a killed step never leaves one half-written under its real name. */
export function writeAtomic(file: string, text: string, mode = 0o644): void {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text, { mode });
    fs.renameSync(tmp, file);
}

export interface StackLayout {
    stackRoot: string;
    grenadeDir: string;
    saveDir: string;
    logDir: string;
    db: string;
}

export function layout(stackRoot: string): StackLayout {
    const root = path.resolve(stackRoot);
    return {
        stackRoot: root, grenadeDir: path.join(root, "grenade"), saveDir: path.join(root, "save"),
        logDir: path.join(root, "logs"), db: path.join(root, "save", "grenade_db.ini"),
    };
}

/** (Re)write GRENADE_DIR; SAVE_DIR and LOGDIR are created once and kept. */
export function writeGrenadeDir(l: StackLayout, plugins: PluginRef[]): void {
    for (const d of [l.grenadeDir, l.saveDir, l.logDir]) fs.mkdirSync(d, { recursive: true });
    writeAtomic(path.join(l.grenadeDir, "grenaderc"), GRENADERC);
    writeAtomic(path.join(l.grenadeDir, "functions"), FUNCTIONS);
    writeAtomic(path.join(l.grenadeDir, "pluginrc"), pluginrc(plugins));
    writeAtomic(path.join(l.grenadeDir, "run-phase"), RUN_PHASE, 0o755);
}

/** grenade_db.ini as text: one section per project, `key = value` lines, as devstack's iniset writes them. */
export function iniText(saved: SavedResources): string {
    const out: string[] = [""];
    for (const [project, values] of Object.entries(saved ?? {})) {
        if (/[\]\n]/.test(project)) throw new Error(`saved resources: bad project name ${JSON.stringify(project)}`);
        out.push(`[${project}]`);
        for (const [key, value] of Object.entries(values ?? {})) {
            if (/[=\n]/.test(key) || /\n/.test(String(value))) throw new Error(`saved resources: bad key or value of ${project}: ${JSON.stringify(key)}`);
            out.push(`${key} = ${value}`);
        }
    }
    return out.join("\n") + "\n";
}

export function parseIni(text: string): SavedResources {
    const out: SavedResources = {};
    let section: string | undefined;
    for (const raw of text.split("\n")) {
        const header = /^\[(.*)\]$/.exec(raw);
        if (header) {
            section = header[1];
            out[section] ??= {};
            continue;
        }
        const line = raw.replace(/^[ \t]+/, "");
        const eq = line.indexOf("=");
        if (!section || eq <= 0 || line.startsWith("#")) continue;
        out[section][line.slice(0, eq).replace(/[ \t]+$/, "")] = line.slice(eq + 1).replace(/^[ \t]+/, "");
    }
    return out;
}

export function writeDb(l: StackLayout, saved: SavedResources): void {
    writeAtomic(l.db, iniText(saved));
}

export function readDb(l: StackLayout): SavedResources {
    return fs.existsSync(l.db) ? parseIni(fs.readFileSync(l.db, "utf8")) : {};
}
