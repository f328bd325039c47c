import { z } from "zod";

/**
 * Strict patterns for the values of a stack file that name things: hosts, users, databases. A value
 * that matches one can be used as a single shell word or program argument as it is; anything else
 * is refused where the config is read, with its path.
 */

/** One DNS label: letters, digits and inner hyphens (RFC 1123). */
const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
/** A host name (dotted labels), an IPv4 address, or an IPv6 address in brackets or bare. */
export const HOST = new RegExp(`^(?:${LABEL}(?:\\.${LABEL})*|\\[?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\\]?)$`);
/** A login name (POSIX portable user names). */
export const USER = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
/**
 * A PostgreSQL database or role name. libpq reads a dbname holding `=` or starting with
 * `postgresql://` as a connection string (whose host= would override database.host): refused here.
 */
export const SQL_NAME = /^[A-Za-z_][A-Za-z0-9_$-]*$/;

const hostMessage = "must be a host name or IP address (letters, digits, . - and :)";

export const hostName = z.string().regex(HOST, hostMessage).max(253, "is too long for a host name");
/** A host optionally with its login: `ops@lb.example.net`. */
export const sshHost = z.string().refine(s => {
    const at = s.lastIndexOf("@");
    return (at < 0 || USER.test(s.slice(0, at))) && HOST.test(s.slice(at + 1)) && s.length <= 300;
}, "must be a host name or IP address, optionally user@host (letters, digits, . - _ and :)");
export const userName = z.string().regex(USER, "must be a user name (letters, digits, _ . -, not starting with -)");
/** A database server: a host, or the folder of its Unix socket (libpq reads a host starting with / so). */
export const dbHost = z.string().refine(s => HOST.test(s) || /^\/[A-Za-z0-9_./-]*$/.test(s),
    "must be a host name, an IP address or the absolute folder of the server's Unix socket");
export const sqlName = z.string().regex(SQL_NAME, "must be a name (letters, digits, _ $ -): not a connection string");
