// Painted masks: a canvas per layer (alpha = the value, 1 = inside), kept at most MASK_SIDE px on
// its long side, and their spec form, EncodedMask {size: [h, w], encoding: "zlib-float32-le", data}.

export const MASK_SIDE = 512;

export function maskSize(W, H) {
  const k = Math.min(1, MASK_SIDE / Math.max(W, H));
  return [Math.max(1, Math.round(H * k)), Math.max(1, Math.round(W * k))];
}

export function newLayer(h, w) {
  const layer = document.createElement("canvas");
  layer.width = w; layer.height = h;
  return layer;
}

// One stroke segment from a to b (image pixels) of a round, soft-edged brush about `size` image pixels wide.
export function paint(layer, W, a, b, size, erase) {
  const k = layer.width / W;
  const g = layer.getContext("2d");
  g.save();
  g.globalCompositeOperation = erase ? "destination-out" : "source-over";
  g.strokeStyle = g.fillStyle = "#fff";
  // a soft edge (a quarter of the radius), so what a brush moves fades out instead of tearing
  g.lineWidth = Math.max(1, size * k * 0.8);
  g.shadowColor = "#fff";
  g.shadowBlur = Math.max(1, size * k * 0.12);
  g.lineCap = g.lineJoin = "round";
  g.beginPath();
  g.moveTo((a.x + 0.5) * k, (a.y + 0.5) * k);
  g.lineTo((b.x + 0.5) * k + 0.01, (b.y + 0.5) * k);
  g.stroke();
  g.restore();
}

// Fill (u, v) polygons into a layer (an imported polygon region becomes painted pixels).
export function fillPolygons(layer, polygons) {
  const g = layer.getContext("2d");
  g.fillStyle = "#fff";
  g.beginPath();
  for (const polygon of polygons) {
    polygon.forEach(([u, v], i) => (i ? g.lineTo(u * layer.width, v * layer.height) : g.moveTo(u * layer.width, v * layer.height)));
    g.closePath();
  }
  g.fill();
}

// {values: Float32Array in [0, 1], area: fraction inside, centre: {u, v} or null}
export function measure(layer) {
  const { width: w, height: h } = layer;
  const alpha = layer.getContext("2d").getImageData(0, 0, w, h).data;
  const values = new Float32Array(w * h);
  let sum = 0, su = 0, sv = 0;
  for (let i = 0; i < w * h; i++) {
    const v = alpha[4 * i + 3] / 255;
    values[i] = v;
    if (v > 0) { sum += v; su += v * ((i % w) + 0.5); sv += v * (Math.floor(i / w) + 0.5); }
  }
  return { values, area: sum / (w * h), centre: sum ? { u: su / sum / w, v: sv / sum / h } : null };
}

const toBase64 = (bytes) => {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
};

// The layer as an EncodedMask (zlib = the "deflate" CompressionStream), with where it is.
export async function encode(layer) {
  const { values, area, centre } = measure(layer);
  const stream = new Blob([values.buffer]).stream().pipeThrough(new CompressionStream("deflate"));
  const bytes = new Uint8Array(await new Response(stream).arrayBuffer());
  return { mask: { size: [layer.height, layer.width], encoding: "zlib-float32-le", data: toBase64(bytes) }, area, centre };
}

export async function decodeValues(mask) {
  const bytes = Uint8Array.from(atob(mask.data), (c) => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Float32Array(await new Response(stream).arrayBuffer());
}

// A layer of size (h, w) holding an EncodedMask (resampled when it was stored at another size).
export async function decode(mask, h, w) {
  const [mh, mw] = mask.size;
  const values = await decodeValues(mask);
  const stored = newLayer(mh, mw);
  const pixels = new ImageData(mw, mh);
  values.forEach((v, i) => { pixels.data[4 * i] = pixels.data[4 * i + 1] = pixels.data[4 * i + 2] = 255; pixels.data[4 * i + 3] = Math.round(255 * v); });
  stored.getContext("2d").putImageData(pixels, 0, 0);
  if (mh === h && mw === w) return stored;
  const layer = newLayer(h, w);
  layer.getContext("2d").drawImage(stored, 0, 0, w, h);
  return layer;
}

// A coloured, translucent copy of a layer to draw over the picture.
export function tint(layer, rgb, alpha) {
  const out = newLayer(layer.height, layer.width);
  const g = out.getContext("2d");
  g.drawImage(layer, 0, 0);
  g.globalCompositeOperation = "source-in";
  g.fillStyle = `rgba(${rgb.join(",")},${alpha})`;
  g.fillRect(0, 0, out.width, out.height);
  return out;
}

// Everything outside the layer darkened (what may not move), for the gating mask.
export function outside(layer, alpha) {
  const out = newLayer(layer.height, layer.width);
  const g = out.getContext("2d");
  g.fillStyle = `rgba(8,10,14,${alpha})`;
  g.fillRect(0, 0, out.width, out.height);
  g.globalCompositeOperation = "destination-out";
  g.drawImage(layer, 0, 0);
  return out;
}
