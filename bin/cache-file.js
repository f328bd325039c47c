// One file of a start-up cache (transpiled TypeScript, V8 code cache), kept by content hash: read
// when present, written under a temporary name and renamed, since programs and steps that start side
// by side may cache the same file at once. A read-only checkout still runs, only without the cache.
const fs = require("fs");
const path = require("path");

/** The cached content, or undefined when it is not cached yet. */
function readCached(file, encoding) {
    try {
        return fs.readFileSync(file, encoding);
    } catch {
        return undefined;
    }
}

function keepCached(file, data) {
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, data);
        fs.renameSync(tmp, file);
    } catch {
        // not writable: run without the cache
    }
}

module.exports = { readCached, keepCached };
