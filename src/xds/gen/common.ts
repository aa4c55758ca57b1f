// Small builders every generator shares: protobuf durations and percents, Struct values, HTTP filters.
import { parseGoDuration } from '../../validation/decode.js';
import { ANY } from '../protos.js';

export type Msg = Record<string, unknown>;

export function durationOf(ns: number): Msg {
  const seconds = Math.floor(ns / 1e9);
  return { seconds, nanos: Math.round(ns - seconds * 1e9) };
}

/** An Istio duration string ("1.5s") as a protobuf Duration; undefined when absent or unparsable. */
export function istioDuration(v: unknown): Msg | undefined {
  if (typeof v !== 'string') return undefined;
  try {
    return durationOf(parseGoDuration(v));
  } catch {
    return undefined;
  }
}

/** Istio's Percent (0-100, fractional) as Envoy's FractionalPercent per million, like istiod's translatePercentToFractionalPercent. */
export function fractionalPercent(value: number): Msg {
  return { numerator: Math.round(value * 10000), denominator: 'MILLION' };
}

/** A JSON value as a google.protobuf.Value, for Struct metadata (protobufjs' bundled well-known types use camelCase names). */
function structValue(v: unknown): Msg {
  if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(structValue) } };
  return { structValue: toStruct(v as Record<string, unknown>) };
}

export function toStruct(o: Record<string, unknown>): Msg {
  return { fields: Object.fromEntries(Object.entries(o).map(([k, v]) => [k, structValue(v)])) };
}

export const ROUTER_FILTER = { name: 'envoy.filters.http.router', typed_config: { '@type': ANY.router } };
export const FAULT_FILTER = { name: 'envoy.filters.http.fault', typed_config: { '@type': ANY.fault } };

export const ADS_CONFIG = { ads: {}, initial_fetch_timeout: { seconds: 0 }, resource_api_version: 'V3' };
