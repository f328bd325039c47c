// Runs one of the project's TypeScript entry points. Every step of a runbook starts one of these
// processes, so the start-up matters: each .ts file is transpiled once (TypeScript's transpileModule,
// the settings of tsconfig.json) and the JavaScript is cached by content; later starts read the cache
// and never load the compiler. Types are checked by `tsc --noEmit` (npm test), not here.
const crypto = require("crypto");
const fs = require("fs");
const path = require("path");
const { readCached, keepCached } = require("./cache-file");

const ROOT = path.join(__dirname, "..");
const CACHE = process.env.UPGRADE_TS_CACHE || path.join(ROOT, "node_modules", ".cache", "upgrade-as-code-ts");

let ts;
let compilerOptions;
let salt;

/** What else decides the output besides a file's text: the compiler's version and the tsconfig. */
function cacheSalt() {
    if (salt === undefined) {
        const version = JSON.parse(fs.readFileSync(require.resolve("typescript/package.json", { paths: [ROOT] }), "utf8")).version;
        salt = `${version}\n${fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8")}`;
    }
    return salt;
}

function transpile(source, filename) {
    if (!ts) {
        ts = require(require.resolve("typescript", { paths: [ROOT] }));
        const parsed = ts.getParsedCommandLineOfConfigFile(path.join(ROOT, "tsconfig.json"), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
        compilerOptions = { ...(parsed ? parsed.options : {}), module: ts.ModuleKind.CommonJS, sourceMap: false, inlineSourceMap: true, inlineSources: false, declaration: false, noEmit: false };
    }
    return ts.transpileModule(source, { compilerOptions, fileName: filename }).outputText;
}

function compile(source, filename) {
    const key = crypto.createHash("sha256").update(cacheSalt()).update("\0").update(filename).update("\0").update(source).digest("hex");
    const cached = path.join(CACHE, `${key}.js`);
    const known = readCached(cached, "utf8");
    if (known !== undefined) return known;
    const js = transpile(source, filename);
    keepCached(cached, js);
    return js;
}

let registered = false;
function register() {
    if (registered) return;
    registered = true;
    require("./code-cache").install();
    require("./defer-sdk").install();
    // Stack traces point at the TypeScript lines (the inline source maps).
    if (typeof process.setSourceMapsEnabled === "function") process.setSourceMapsEnabled(true);
    require.extensions[".ts"] = (module, filename) => {
        module._compile(compile(fs.readFileSync(filename, "utf8"), filename), filename);
    };
}

module.exports = function runTs(entry) {
    register();
    const mod = require(path.join(ROOT, entry));
    require(path.join(ROOT, "cli", "launch.ts")).launch(mod.main);
};
module.exports.register = register;
