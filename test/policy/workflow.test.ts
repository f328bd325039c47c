import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
const WORKFLOW = path.join(ROOT, ".github", "workflows", "upgrade.yml");

function actionlint(file: string) {
    return spawnSync("bash", [path.join(ROOT, "scripts", "tools", "actionlint.sh"), file], { cwd: ROOT, encoding: "utf8" });
}

describe("the users' CI workflow (.github/workflows/upgrade.yml)", function () {
    this.timeout(300000);

    it("passes actionlint", () => {
        const r = actionlint(WORKFLOW);
        assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    it("previews with the policy pack on pull requests and runs up only on main", () => {
        const text = fs.readFileSync(WORKFLOW, "utf8");
        assert.match(text, /pull_request:/);
        assert.match(text, /policyPacks: policy/);
        assert.match(text, /npm run -s pr-comment -- --stack "\$STACK" --preview/);
        assert.match(text, /command: up/);
        assert.match(text, /github\.event_name == 'push'/);
    });

    it("actionlint does reject a broken workflow (the check can fail)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "workflow-"));
        const broken = path.join(dir, "broken.yml");
        fs.writeFileSync(broken, fs.readFileSync(WORKFLOW, "utf8").replace("runs-on: ubuntu-latest", "runs-on: ${{ matrix.nope }}"));
        const r = actionlint(broken);
        assert.notEqual(r.status, 0);
        assert.match(r.stdout, /matrix/);
    });
});
