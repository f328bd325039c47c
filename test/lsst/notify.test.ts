import { strict as assert } from "assert";
import * as http from "http";
import { AddressInfo } from "net";
import { notificationText } from "../../cli/step/lsst/notify";
import { failureOf, runLsstStep } from "./support";

/** A stand-in Slack incoming webhook: answers with the given statuses in turn (then 200), records the bodies. */
async function webhook(statuses: number[] = []): Promise<{ url: string; bodies: Record<string, unknown>[]; paths: string[]; close: () => Promise<void> }> {
    const bodies: Record<string, unknown>[] = [];
    const paths: string[] = [];
    const queue = [...statuses];
    const server = http.createServer((req, res) => {
        let data = "";
        req.on("data", c => (data += c));
        req.on("end", () => {
            paths.push(req.url ?? "");
            bodies.push(JSON.parse(data || "{}"));
            const status = queue.shift() ?? 200;
            res.writeHead(status, { "content-type": "text/plain" });
            res.end(status === 200 ? "ok" : status === 404 ? "no_service" : "internal_error");
        });
    });
    await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as AddressInfo).port;
    return {
        url: `http://127.0.0.1:${port}/services/T0001/B0001/S3CR3TT0K3N`, bodies, paths,
        close: () => new Promise(r => server.close(() => r())),
    };
}

describe("LSST notifications", function () {
    this.timeout(30000);

    it("posts the message to the webhook; the monitoring report names the stragglers", async () => {
        const hook = await webhook();
        try {
            const s = runLsstStep("notify", { channel: "#tts-ops", message: "[TTS] The upgrade is deployed.", stragglers: ["MTM1M3 (FAULT)", "ATDome (DISABLED)"] },
                { SLACK_WEBHOOK_URL: hook.url });
            const r = await s.result;
            assert.equal(r.sent, true);
            assert.deepEqual(hook.bodies, [{ text: "[TTS] The upgrade is deployed. Not in STANDBY or OFFLINE at the end of the monitoring (issues reported to the system principals): MTM1M3 (FAULT), ATDome (DISABLED)." }]);
            assert.deepEqual(hook.paths, ["/services/T0001/B0001/S3CR3TT0K3N"]);
            assert.ok(!s.logs.join("\n").includes("S3CR3TT0K3N"), "the webhook's secret path is never logged");
        } finally {
            await hook.close();
        }
    });

    it("retries a webhook that fails with 5xx, and gives up on 4xx at once without showing the URL", async () => {
        const flaky = await webhook([500, 503]);
        try {
            const s = runLsstStep("notify", { channel: "#summit-announce", message: "hello" }, { SLACK_WEBHOOK_URL: flaky.url });
            assert.equal((await s.result).sent, true);
            assert.equal(flaky.bodies.length, 3);
            assert.equal(s.logs.filter(l => /HTTP 50\d .*trying again/.test(l)).length, 2);
        } finally {
            await flaky.close();
        }
        const gone = await webhook([404, 404, 404]);
        try {
            const message = await failureOf(runLsstStep("notify", { channel: "#summit-announce", message: "hello" }, { SLACK_WEBHOOK_URL: gone.url }).result);
            assert.match(message, /^the Slack webhook \(127\.0\.0\.1:\d+\) refused the message: HTTP 404 no_service$/);
            assert.ok(!message.includes("S3CR3TT0K3N"));
            assert.equal(gone.bodies.length, 1, "a 4xx is not retried");
        } finally {
            await gone.close();
        }
    });

    it("without a webhook, prints the message for the operator to post, and goes on", async () => {
        const s = runLsstStep("notify", { channel: "#tts-ops", message: "[TTS] The upgrade is done: Nublado can be used again." }, { SLACK_WEBHOOK_URL: "" });
        const r = await s.result;
        assert.deepEqual(r, { sent: false, channel: "#tts-ops", text: "[TTS] The upgrade is done: Nublado can be used again." });
        assert.match(s.logs.join("\n"), /no Slack webhook configured \(upgrade:lsstSlackWebhook\): post this in #tts-ops yourself:\n.*Nublado can be used again/);
    });

    it("composes the report: all up, or the stragglers", () => {
        assert.equal(notificationText("Done.", []), "Done. Every system reports STANDBY or OFFLINE.");
        assert.equal(notificationText("Done.", undefined), "Done.");
        assert.match(notificationText("Done.", ["A (FAULT)"]), /: A \(FAULT\)\.$/);
    });
});
