// Photos taken or picked on the phone, made small enough to send: at most 1600 px on the
// long side, JPEG at 0.85, as base64 without the data-URL prefix. Where the browser cannot
// draw the image (or it is small already) the file's own bytes are sent.
const LONG_SIDE = 1600;
const SMALL_ENOUGH = 600_000;

export function base64Of(dataUrl: string): string {
  const comma = dataUrl.indexOf(",");
  return comma >= 0 ? dataUrl.slice(comma + 1) : dataUrl;
}

function readAsDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function shrink(dataUrl: string): Promise<string | null> {
  if (typeof document === "undefined" || typeof Image === "undefined") return null;
  const image = new Image();
  const loaded = new Promise<boolean>((resolve) => {
    image.onload = () => resolve(true);
    image.onerror = () => resolve(false);
  });
  image.src = dataUrl;
  if (!(await loaded) || !image.naturalWidth) return null;
  const scale = Math.min(1, LONG_SIDE / Math.max(image.naturalWidth, image.naturalHeight));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(image.naturalWidth * scale);
  canvas.height = Math.round(image.naturalHeight * scale);
  const context = canvas.getContext("2d");
  if (!context) return null;
  context.drawImage(image, 0, 0, canvas.width, canvas.height);
  return canvas.toDataURL("image/jpeg", 0.85);
}

/** The photo as base64 JPEG (or the file's own bytes), ready for the API. */
export async function photoBase64(file: File): Promise<string> {
  const dataUrl = await readAsDataUrl(file);
  if (file.size <= SMALL_ENOUGH) return base64Of(dataUrl);
  return base64Of((await shrink(dataUrl)) ?? dataUrl);
}
