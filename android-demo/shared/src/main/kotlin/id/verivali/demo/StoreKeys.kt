package id.verivali.demo

import id.verivali.core.newStoreKey
import java.io.File

/**
 * Wraps and unwraps the store's key with a key that never leaves the platform's key store (on
 * Android, an AES key in the Android Keystore, `AndroidKeystoreVault` in the app). Only the
 * wrapped bytes are written to disk, and never in the database's file (docs/phone-encryption.md).
 */
interface KeyVault {
    fun wrap(key: ByteArray): ByteArray
    fun unwrap(wrapped: ByteArray): ByteArray
}

/**
 * The store's key, kept wrapped in [wrappedFile]: made (random, by the core) at the first start,
 * unwrapped at every later one. A file that no longer unwraps (the Keystore key was lost, as
 * when the phone's lock screen is reset) is an error, never a new key: a new key would not open
 * the store, and the store still holds the unsent visits.
 */
class StoreKeys(private val wrappedFile: File, private val vault: KeyVault) {
    fun key(): ByteArray {
        if (wrappedFile.exists()) return vault.unwrap(wrappedFile.readBytes())
        val key = newStoreKey()
        val partial = File(wrappedFile.path + ".new")
        partial.writeBytes(vault.wrap(key))
        check(partial.renameTo(wrappedFile)) { "the wrapped key could not be kept" }
        return key
    }
}
