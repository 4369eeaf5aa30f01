/** Whether the room is on one device shared by both partners: then nothing says "You", both are named. */
import { createContext } from "preact";

export const SharedDeviceContext = createContext(false);
