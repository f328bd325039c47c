/**
 * Rules for the URLs a stack file gives: credentials never ride in a URL (they would be printed in
 * every error and log line that names it), a bearer token is never sent in clear text except to
 * this machine, and any URL in a message is shown without user, password, path or query.
 */

/** The loopback addresses (a token over http to them never leaves the machine). */
export function isLoopback(hostname: string): boolean {
    const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
    return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h);
}

/** Why this URL may not be used (with `token`: a token would be sent over it), or undefined. */
export function urlProblem(url: string, opts: { token?: boolean } = {}): string | undefined {
    let u: URL;
    try {
        u = new URL(url);
    } catch {
        return "is not a URL";
    }
    if (u.username || u.password) return "must not hold a user or password: give the token as the secret upgrade:inmantaToken instead";
    if (opts.token && u.protocol === "http:" && !isLoopback(u.hostname)) {
        return `sends the token in clear text: use https for ${u.hostname}, or http only to a loopback address (127.0.0.1, ::1, localhost)`;
    }
    return undefined;
}

/** Every URL in `text` cut down to its scheme, host and port. */
export function scrubUrls(text: string): string {
    return text.replace(/\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#"'<>]*@)?([^\s/?#"'<>]*)[^\s"'<>]*/gi, (_all, scheme: string, _cred, host: string) => `${scheme}${host}`);
}
