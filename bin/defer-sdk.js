// The Pulumi SDK loads TypeScript's compiler (9 MB), npm's Arborist (with pacote, sigstore and the
// registry client) and its Automation API (execa, js-yaml) when it starts, for function serialization
// (dynamic providers, callbacks), the provider analyzer and driving the CLI from code. A runbook
// program uses none of them, yet each start paid about a second for them. Here those requires, from
// the SDK files named below only, return a stand-in that loads the real module on its first use, so
// a program that serializes a function or uses `pulumi.automation` still gets it.
// A newer SDK that moves these files simply loads them as before.
// Measured by `npm run bench -- startup`.
const Module = require("module");
const path = require("path");

const SDK = `${path.sep}node_modules${path.sep}@pulumi${path.sep}pulumi${path.sep}`;

/** SDK file (relative to the SDK) -> the request it makes that may wait until first use. */
const DEFERRED = new Map([
    [path.join("runtime", "closure", "parseFunction.js"), "../../typescript-shim"],
    [path.join("provider", "experimental", "analyzer.js"), "../../typescript-shim"],
    [path.join("runtime", "closure", "codePaths.js"), "@npmcli/arborist"],
    ["index.js", "./automation"],
]);

function deferredRequest(request, parent) {
    const file = parent && parent.filename;
    if (!file) return false;
    const at = file.lastIndexOf(SDK);
    return at >= 0 && DEFERRED.get(file.slice(at + SDK.length)) === request;
}

/**
 * A function-shaped stand-in (so `new` and calls work too) that loads the module on first use.
 * `__esModule` is answered without loading: the SDK's `__importStar` asks for it at require time,
 * and answering true makes it hand the stand-in itself to the file. The files use named members
 * only (`ts.createSourceFile`, `arborist.Arborist`, `automation.LocalWorkspace`), never enumerate the module.
 */
function onFirstUse(load) {
    let real;
    const target = () => (real ??= load());
    return new Proxy(function deferred() {}, {
        get: (_, key) => (key === "__esModule" ? true : Reflect.get(target(), key)),
        set: (_, key, value) => Reflect.set(target(), key, value),
        has: (_, key) => Reflect.has(target(), key),
        apply: (_, self, args) => Reflect.apply(target(), self, args),
        construct: (_, args) => Reflect.construct(target(), args),
    });
}

let installed = false;
function install() {
    if (installed || process.env.UPGRADE_DEFER_SDK === "off") return;
    installed = true;
    const load = Module._load;
    Module._load = function (request, parent, isMain) {
        if (!deferredRequest(request, parent)) return load.apply(this, arguments);
        return onFirstUse(() => load.call(this, request, parent, isMain));
    };
}

module.exports = { install, deferredRequest };
