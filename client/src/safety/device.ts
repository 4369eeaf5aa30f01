/**
 * Whether both partner seats are on this device (the one-device room). The room provides it; the safety screens
 * read it, because a question asked "alone" or a signal sent "quietly" means nothing with the other partner
 * holding the same screen.
 */
import { createContext } from "preact";
import { useContext } from "preact/hooks";

export const OneDevice = createContext(false);

/** True inside the one-device room. */
export function useOneDevice(): boolean {
  return useContext(OneDevice);
}
