import { createDecipheriv, pbkdf2Sync } from "crypto";

/**
 * Decrypt a value of a stack file made by Pulumi's passphrase secrets provider, so the emergency
 * stop can reach a token-protected orchestrator without the engine. The key is PBKDF2-SHA256 of
 * the passphrase (1,000,000 rounds) over the stack's salt; values are AES-256-GCM, "v1:nonce:data".
 */
export function passphraseDecrypter(encryptionSalt: string, passphrase: string): (secure: string) => string {
    const [saltVersion, salt] = encryptionSalt.split(":");
    if (saltVersion !== "v1" || !salt) throw new Error("the stack's encryptionsalt is not a v1 passphrase salt");
    const key = pbkdf2Sync(passphrase, Buffer.from(salt, "base64"), 1_000_000, 32, "sha256");
    const decrypt = (secure: string): string => {
        const [version, nonce, data] = secure.split(":");
        if (version !== "v1" || !nonce || !data) throw new Error("not a v1 passphrase-encrypted value");
        const bytes = Buffer.from(data, "base64");
        const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(nonce, "base64"));
        decipher.setAuthTag(bytes.subarray(bytes.length - 16));
        return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - 16)), decipher.final()]).toString("utf8");
    };
    // The salt itself carries an encrypted check value: a wrong passphrase fails here, clearly.
    const check = encryptionSalt.split(":").slice(2).join(":");
    if (check) {
        try {
            decrypt(check);
        } catch {
            throw new Error("incorrect passphrase for this stack (PULUMI_CONFIG_PASSPHRASE)");
        }
    }
    return decrypt;
}
