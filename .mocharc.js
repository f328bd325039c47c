// Mocha's settings. `npm test -- <files...>` runs only those files (scripts/test.sh passes them in
// UPGRADE_TEST_FILES: positional files would be added to the spec below, not replace it).
const only = (process.env.UPGRADE_TEST_FILES || "").split(/\s+/).filter(Boolean);
module.exports = {
    require: ["ts-node/register/transpile-only"],
    spec: only.length ? only : ["test/**/*.test.ts"],
    timeout: 20000,
};
