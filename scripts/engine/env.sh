# Source this file (bash/zsh) to use the repo's Pulumi engine in the current shell:
#
#   source scripts/engine/env.sh
#
# It runs scripts/engine/install.sh (a no-op once the engine is built; the first build takes several minutes)
# and exports:
#   PATH                                        engine bin dir first
#   PULUMI_HOME                                 the engine's own home (holds the registered command provider)
#   PULUMI_SKIP_UPDATE_CHECK=true               no network call for update checks
#   PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true   never download plugins
#   PULUMI_IGNORE_AMBIENT_PLUGINS=true          plugins come from PULUMI_HOME/plugins and from beside the CLI,
#                                               not from PATH (otherwise every run warns "using
#                                               pulumi-resource-command from $PATH")
# When a pulumi that is not ours is already on PATH, install.sh uses it and PULUMI_HOME is left alone.

_engine_env_root=$(cd "$(dirname "${BASH_SOURCE[0]:-$0}")/../.." && pwd)
if _engine_env_bin=$(bash "$_engine_env_root/scripts/engine/install.sh" | tail -n 1) && [ -n "$_engine_env_bin" ]; then
  case ":$PATH:" in
    *":$_engine_env_bin:"*) ;;
    *) PATH="$_engine_env_bin:$PATH" ;;
  esac
  export PATH
  if [ -d "$(dirname "$_engine_env_bin")/home/plugins" ]; then
    export PULUMI_HOME="$(dirname "$_engine_env_bin")/home"
    export PULUMI_IGNORE_AMBIENT_PLUGINS=true
  fi
  export PULUMI_SKIP_UPDATE_CHECK=true
  export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
else
  echo "scripts/engine/env.sh: engine install failed; environment unchanged" >&2
fi
unset _engine_env_root _engine_env_bin
