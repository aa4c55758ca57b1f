// Proxy image names from values and annotations (istio pkg/kube/inject/inject.go ProxyImage/imageURL).
import type { InjectorValues } from '../types.js';
import { rec } from '../util/json.js';

const KNOWN_IMAGE_TYPES = ['distroless', 'debug'];

/** A tag with its -debug/-distroless variant replaced by imageType ("default" strips it). */
export function tagForImageType(tag: string, imageType: string): string {
  if (imageType === '') return tag;
  let t = tag;
  for (const known of KNOWN_IMAGE_TYPES) {
    if (t.endsWith(`-${known}`)) {
      t = t.slice(0, -(known.length + 1));
      break;
    }
  }
  return imageType === 'default' ? t : `${t}-${imageType}`;
}

function imageURL(values: InjectorValues, name: string, imageType: string, annotations: Record<string, string>): string {
  const global = rec(values.global);
  const tag = global.tag === undefined || global.tag === null ? '' : String(global.tag);
  let type = imageType === '' ? String(global.variant ?? '') : imageType;
  if (Object.prototype.hasOwnProperty.call(annotations, 'sidecar.istio.io/proxyImageType')) type = annotations['sidecar.istio.io/proxyImageType']!;
  return `${String(global.hub ?? '')}/${name}:${tagForImageType(tag, type)}`;
}

export function proxyImage(values: InjectorValues, imageType: string, annotations: Record<string, string>): string {
  const image = rec(rec(values.global).proxy).image;
  return imageURL(values, typeof image === 'string' && image !== '' ? image : 'proxyv2', imageType, annotations);
}

export function proxyInitImage(values: InjectorValues, annotations: Record<string, string>): string {
  const image = rec(rec(values.global).proxy_init).image;
  return imageURL(values, typeof image === 'string' && image !== '' ? image : 'proxyv2', '', annotations);
}
