/**
 * The page's own storage: one IndexedDB database with one object store of values by key, enough for
 * a panel to keep its training checkpoint across visits. Raw IndexedDB (one get, put and delete need
 * no library). A browser that keeps nothing — no IndexedDB, private mode, storage switched off — gets
 * `undefined` from openKept(), and the page works without it.
 *
 * Each put and delete starts its transaction synchronously in the call, so the order of the calls is
 * the order in which the database applies them (readwrite transactions on one store run in order of
 * creation): a delete issued after a put is never undone by it.
 */
const DATABASE = 'webgpu-rnn-demo';
const STORE = 'kept';

export interface KeptStore {
  get<T>(key: string): Promise<T | undefined>;
  /** Resolves once the value is committed; rejects when it was not (e.g. the storage quota). */
  put(key: string, value: unknown): Promise<void>;
  delete(key: string): Promise<void>;
}

function done(transaction: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onabort = transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB: the transaction was aborted'));
  });
}

let opening: Promise<KeptStore | undefined> | undefined;

/** The store, or undefined where this browser keeps nothing. Opened once per page. */
export function openKept(): Promise<KeptStore | undefined> {
  opening ??= new Promise<IDBDatabase | undefined>((resolve) => {
    let request: IDBOpenDBRequest;
    try {
      if (typeof indexedDB === 'undefined' || !indexedDB) return resolve(undefined);
      request = indexedDB.open(DATABASE, 1);
    } catch {
      return resolve(undefined); // e.g. a SecurityError where storage is blocked
    }
    request.onupgradeneeded = () => request.result.createObjectStore(STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(undefined);
    request.onblocked = () => resolve(undefined);
  }).then((db) => {
    if (!db) return undefined;
    const store: KeptStore = {
      get<T>(key: string) {
        const request = db.transaction(STORE, 'readonly').objectStore(STORE).get(key);
        return new Promise<T | undefined>((resolve, reject) => {
          request.onsuccess = () => resolve(request.result as T | undefined);
          request.onerror = () => reject(request.error);
        });
      },
      put(key, value) {
        const transaction = db.transaction(STORE, 'readwrite');
        transaction.objectStore(STORE).put(value, key);
        return done(transaction);
      },
      delete(key) {
        const transaction = db.transaction(STORE, 'readwrite');
        transaction.objectStore(STORE).delete(key);
        return done(transaction);
      },
    };
    return store;
  });
  return opening;
}
