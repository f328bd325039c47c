// V8's code cache for the packages in node_modules. Every `pulumi preview`/`up` starts the program,
// and every step starts a runner, so the same packages are compiled again and again (the Pulumi SDK
// alone is about 770 files). Node 20 has no built-in cache for CommonJS (NODE_COMPILE_CACHE is 22.1+),
// so each package file is compiled with vm.Script and V8's cached data, kept by content hash; a later
// start reads the cached data instead of parsing the source. The project's own files keep Node's
// loader (their inline source maps map stack traces to the TypeScript lines).
// Measured by `npm run bench -- startup`.
const crypto = require("crypto");
const Module = require("module");
const path = require("path");
const vm = require("vm");
const { readCached, keepCached } = require("./cache-file");

const ROOT = path.join(__dirname, "..");
const CACHE = process.env.UPGRADE_CODE_CACHE || path.join(ROOT, "node_modules", ".cache", "upgrade-as-code-v8");
const PACKAGES = `${path.sep}node_modules${path.sep}`;
// Node 20 runs import() from vm-compiled code only with an experimental loader that warns on every
// start, so a file that may call import() keeps Node's own loader (also when the word is in a string).
const DYNAMIC_IMPORT = /\bimport\s*\(/;

/** A `require` for `mod`, as Node's loader gives each module. */
function requireFor(mod) {
    const require = id => mod.require(id);
    require.resolve = (request, options) => Module._resolveFilename(request, mod, false, options);
    require.resolve.paths = request => Module._resolveLookupPaths(request, mod);
    require.main = process.mainModule;
    require.extensions = Module._extensions;
    require.cache = Module._cache;
    return require;
}

function compileCached(content, filename) {
    const key = crypto.createHash("sha256").update(process.version).update("\0").update(filename)
        .update("\0").update(content).digest("hex");
    const file = path.join(CACHE, `${key}.bin`);
    const cachedData = readCached(file);
    // A hashbang is only valid at the very start of a script, which the wrapper no longer is.
    const source = content.startsWith("#!") ? `//${content.slice(2)}` : content;
    const script = new vm.Script(Module.wrap(source), {
        filename, cachedData,
    });
    return { script, fresh: cachedData === undefined || script.cachedDataRejected === true, file };
}

let installed = false;
function install() {
    if (installed || process.env.UPGRADE_CODE_CACHE === "off") return;
    installed = true;
    const compile = Module.prototype._compile;
    Module.prototype._compile = function (content, filename) {
        if (!filename.includes(PACKAGES) || DYNAMIC_IMPORT.test(content)) return compile.call(this, content, filename);
        const { script, fresh, file } = compileCached(content, filename);
        const wrapper = script.runInThisContext({ displayErrors: true });
        const result = wrapper.call(this.exports, this.exports, requireFor(this), this, filename, path.dirname(filename));
        // After the module ran: the cached data then holds the functions it compiled too.
        if (fresh) keepCached(file, script.createCachedData());
        return result;
    };
}

module.exports = { install, CACHE };
