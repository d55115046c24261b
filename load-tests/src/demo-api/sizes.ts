/**
 * Dataset sizes. `default` is the size the endpoint latencies are calibrated at (see
 * load-tests/results.md); `small` is what `make demo` uses so a fresh machine starts within a minute;
 * `tiny` is for tests.
 */
export interface DatasetSize {
  readonly name: SizeName;
  readonly shops: number;
  readonly barbersPerShop: number;
  readonly clients: number;
  readonly services: number;
  /** Appointments over the whole window (past and future). */
  readonly appointments: number;
}

export const SIZE_NAMES = ["tiny", "small", "default", "large"] as const;
export type SizeName = (typeof SIZE_NAMES)[number];

export const SIZES: Readonly<Record<SizeName, DatasetSize>> = {
  tiny: { name: "tiny", shops: 3, barbersPerShop: 10, clients: 300, services: 40, appointments: 3_000 },
  small: { name: "small", shops: 40, barbersPerShop: 10, clients: 4_000, services: 40, appointments: 60_000 },
  default: {
    name: "default",
    shops: 200,
    barbersPerShop: 10,
    clients: 20_000,
    services: 40,
    appointments: 500_000,
  },
  large: {
    name: "large",
    shops: 500,
    barbersPerShop: 10,
    clients: 50_000,
    services: 40,
    appointments: 1_000_000,
  },
};

export function isSizeName(value: string): value is SizeName {
  return (SIZE_NAMES as readonly string[]).includes(value);
}

/** Identifier layout, shared by the generator, the API and the scenarios. */
export function barberCount(size: DatasetSize): number {
  return size.shops * size.barbersPerShop;
}

/**
 * Users 1..clients are clients; barber b (1-based) is user BARBER_USER_OFFSET + b, whatever the size, so
 * scenarios can name shop owners without knowing the size. A shop's owner is its first barber.
 */
export const BARBER_USER_OFFSET = 1_000_000;

export function barberUserId(barberId: number): number {
  return BARBER_USER_OFFSET + barberId;
}

export function shopOwnerBarberId(size: DatasetSize, shopId: number): number {
  return (shopId - 1) * size.barbersPerShop + 1;
}

export function shopOwnerUserId(size: DatasetSize, shopId: number): number {
  return barberUserId(shopOwnerBarberId(size, shopId));
}
