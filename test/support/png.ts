/** A small PNG reader for screenshots (8-bit RGB or RGBA, not interlaced): enough to find coloured shapes. */
import { inflateSync } from "zlib";

export interface Image {
    width: number;
    height: number;
    /** RGBA, row by row. */
    pixel(x: number, y: number): [number, number, number, number];
}

export function readPng(buf: Buffer): Image {
    if (buf.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG");
    let off = 8;
    let width = 0, height = 0, depth = 0, type = 0, interlace = 0;
    const idat: Buffer[] = [];
    while (off < buf.length) {
        const len = buf.readUInt32BE(off);
        const kind = buf.toString("ascii", off + 4, off + 8);
        const data = buf.subarray(off + 8, off + 8 + len);
        if (kind === "IHDR") {
            width = data.readUInt32BE(0);
            height = data.readUInt32BE(4);
            depth = data[8];
            type = data[9];
            interlace = data[12];
        } else if (kind === "IDAT") idat.push(data);
        else if (kind === "IEND") break;
        off += 12 + len;
    }
    if (depth !== 8 || (type !== 2 && type !== 6) || interlace !== 0) throw new Error(`unsupported PNG (depth ${depth}, colour type ${type}, interlace ${interlace})`);
    const bpp = type === 6 ? 4 : 3;
    const raw = inflateSync(Buffer.concat(idat));
    const stride = width * bpp;
    const out = Buffer.alloc(height * stride);
    for (let y = 0; y < height; y++) {
        const filter = raw[y * (stride + 1)];
        const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
        for (let x = 0; x < stride; x++) {
            const a = x >= bpp ? out[y * stride + x - bpp] : 0;
            const b = y > 0 ? out[(y - 1) * stride + x] : 0;
            const c = x >= bpp && y > 0 ? out[(y - 1) * stride + x - bpp] : 0;
            let v = line[x];
            if (filter === 1) v += a;
            else if (filter === 2) v += b;
            else if (filter === 3) v += (a + b) >> 1;
            else if (filter === 4) {
                const p = a + b - c, pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
                v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
            }
            out[y * stride + x] = v & 0xff;
        }
    }
    return {
        width, height,
        pixel: (x, y) => {
            const i = y * stride + x * bpp;
            return [out[i], out[i + 1], out[i + 2], bpp === 4 ? out[i + 3] : 255];
        },
    };
}

/** Bounding box of the pixels of exactly this colour (±tolerance), or undefined when there are none. */
export function findColor(img: Image, rgb: [number, number, number], tolerance = 2): { x0: number; y0: number; x1: number; y1: number; count: number } | undefined {
    let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1, count = 0;
    for (let y = 0; y < img.height; y++) {
        for (let x = 0; x < img.width; x++) {
            const p = img.pixel(x, y);
            if (Math.abs(p[0] - rgb[0]) <= tolerance && Math.abs(p[1] - rgb[1]) <= tolerance && Math.abs(p[2] - rgb[2]) <= tolerance) {
                count++;
                if (x < x0) x0 = x;
                if (y < y0) y0 = y;
                if (x > x1) x1 = x;
                if (y > y1) y1 = y;
            }
        }
    }
    return count ? { x0, y0, x1, y1, count } : undefined;
}
