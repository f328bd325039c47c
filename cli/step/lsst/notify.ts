import { isLoopback, scrubUrls } from "../../../components/inmanta/client/url-safety";
import { isString, param, StepContext, StepFailure } from "../context";

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** The text of a notification; the monitoring report names the systems that did not come up. */
export function notificationText(message: string, stragglers: unknown): string {
    if (!Array.isArray(stragglers)) return message;
    if (stragglers.length === 0) return `${message} Every system reports STANDBY or OFFLINE.`;
    return `${message} Not in STANDBY or OFFLINE at the end of the monitoring (issues reported to the system principals): ${stragglers.join(", ")}.`;
}

/** Where the webhook points, without its secret path. */
function webhookHost(url: string): string {
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        throw new StepFailure("the Slack webhook is not a URL");
    }
    if (u.username || u.password) throw new StepFailure(`the Slack webhook (${u.host}) must not hold a user or password`);
    if (u.protocol !== "https:" && !isLoopback(u.hostname)) throw new StepFailure(`the Slack webhook (${u.host}) must be an https URL`);
    return u.host;
}

/** POST {text} to a Slack incoming webhook; retries network errors, 429 and 5xx; the URL never appears in a message. */
export async function postToSlack(url: string, text: string, log: (line: string) => void, attempts = 3): Promise<void> {
    const host = webhookHost(url);
    let last = "";
    for (let i = 1; i <= attempts; i++) {
        try {
            const res = await fetch(url, {
                method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ text }),
                signal: AbortSignal.timeout(10000),
            });
            const body = (await res.text()).slice(0, 200);
            if (res.ok) return;
            last = `HTTP ${res.status}${body ? ` ${body}` : ""}`;
            if (res.status !== 429 && res.status < 500) break;
        } catch (err) {
            // Messages of fetch may quote the URL, whose path is the webhook's secret.
            last = (err as Error).name === "TimeoutError" ? "no answer in 10 s" : scrubUrls(`${(err as Error).message}`).split(url).join(host);
        }
        if (i < attempts) {
            log(`Slack webhook (${host}): ${last}; trying again`);
            await sleep(1000);
        }
    }
    throw new StepFailure(`the Slack webhook (${host}) refused the message: ${last}`);
}

/** `notify`: a message to the site's Slack channel; without a webhook it is printed for the operator to post. */
export async function notify(ctx: StepContext): Promise<Record<string, unknown>> {
    const channel = param(ctx, "channel", isString, "a Slack channel");
    const message = param(ctx, "message", isString, "a message");
    const text = notificationText(message, ctx.params.stragglers);
    const url = ctx.env.SLACK_WEBHOOK_URL;
    if (!url) {
        ctx.log(`no Slack webhook configured (upgrade:lsstSlackWebhook): post this in ${channel} yourself:`);
        ctx.log(`  ${text}`);
        return { sent: false, channel, text };
    }
    await postToSlack(url, text, ctx.log);
    ctx.log(`posted to ${channel}: ${text}`);
    return { sent: true, channel, text };
}
