import { useSession } from "./session";

/** Days and times as the company lives them: the tenant's time zone (from /auth/me), not the
 *  browser's and not UTC. The API reads `from`/`to` as local days of that zone too. */

export function useZone(): string {
  return useSession().me?.timezone || "UTC";
}

function parts(d: Date, zone: string): Record<string, string> {
  const fmt = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
  });
  return Object.fromEntries(fmt.formatToParts(d).map((p) => [p.type, p.value]));
}

/** YYYY-MM-DD that is `shift` calendar days from `day` (date arithmetic, so DST cannot skip a day). */
export function shiftDay(day: string, shift: number): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + shift)).toISOString().slice(0, 10);
}

/** Today in the zone, as YYYY-MM-DD. */
export function today(zone: string): string {
  const p = parts(new Date(), zone);
  return `${p.year}-${p.month}-${p.day}`;
}

/** The last `days` local days, oldest first. */
export function lastDays(zone: string, days: number): string[] {
  const end = today(zone);
  return Array.from({ length: days }, (_, i) => shiftDay(end, i - days + 1));
}

/** `from=...&to=...` for the last `days` local days, today included. */
export function periodQuery(zone: string, days: number): string {
  const end = today(zone);
  return `from=${shiftDay(end, 1 - days)}&to=${end}`;
}

/** This month in the zone, as YYYY-MM. */
export function thisMonth(zone: string): string {
  return today(zone).slice(0, 7);
}

/** An ISO instant as local HH:MM:SS (empty stays empty). */
export function localTime(iso: string | undefined, zone: string): string {
  if (!iso) return "";
  const p = parts(new Date(iso), zone);
  return `${p.hour}:${p.minute}:${p.second}`;
}

/** An ISO instant as local "YYYY-MM-DD HH:MM:SS". */
export function localDateTime(iso: string | undefined, zone: string): string {
  if (!iso) return "";
  const p = parts(new Date(iso), zone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}
