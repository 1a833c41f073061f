import { createContext } from "preact";
import { useContext } from "preact/hooks";

export interface Me {
  tenant: string;
  user: { id: string; email: string; name: string; role: string; extension: string; team: string; totp: boolean };
  csrf: string;
  permissions: string[];
  timezone?: string; // the tenant's IANA zone: days and times are shown in it
}

export const SessionContext = createContext<{ me: Me | null; setMe: (me: Me | null) => void }>({
  me: null,
  setMe: () => {},
});

export function useSession() {
  return useContext(SessionContext);
}

export function can(me: Me | null, permission: string): boolean {
  return !!me && me.permissions.includes(permission);
}
