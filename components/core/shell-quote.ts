/**
 * The one place where a value becomes shell text. A value from a stack file never reaches a shell
 * pasted as is: it is either checked against a strict pattern where it is read (hosts, names) or
 * quoted here where it is inserted into a command line.
 */

/** Single-quote a value for a POSIX shell (bash -c locally, the login shell over SSH). */
export function shellQuote(value: string): string {
    if (value.length > 0 && /^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Quote each word and join them into one command line. */
export function shellWords(words: readonly string[]): string {
    return words.map(shellQuote).join(" ");
}

/**
 * A command line from a template: every interpolated value is quoted, the literal text is kept.
 * `sh\`cd ${dir} && ls\`` gives `cd '/a b' && ls`.
 */
export function sh(strings: TemplateStringsArray, ...values: (string | number)[]): string {
    return strings.reduce((line, text, i) => line + text + (i < values.length ? shellQuote(String(values[i])) : ""), "");
}
