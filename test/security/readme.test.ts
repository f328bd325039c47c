import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { SHELL_TEXT_KEYS } from "../../components/config/shell-text";
import { ROOT } from "./support";

describe("security: the README says which config keys are shell text", () => {
    it("its Security section lists every operator command-line key, and no other", () => {
        const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
        const section = readme.slice(readme.indexOf("## Security"), readme.indexOf("\n## ", readme.indexOf("## Security") + 3));
        assert.ok(section.length > 1000, "no Security section");
        const list = section.slice(section.indexOf("The operator command lines"));
        const listed = [...list.slice(0, list.indexOf("\n\n")).matchAll(/`([a-zA-Z*.]+)`/g)].map(m => m[1]).filter(k => k.includes("."));
        assert.deepEqual(listed.filter(k => k !== "components/config/shell-text.ts"), [...SHELL_TEXT_KEYS]);
    });
});
