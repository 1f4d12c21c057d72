// A `verivali-server demo` process on a free port with its own data directory, for the Kotlin
// tests on the JVM (bindings/tests/kotlin and the Android demo's harness): its address, the
// enrollment codes it printed, and the supervisor calls the tests check through.

import java.io.File
import java.net.HttpURLConnection
import java.net.URI
import java.nio.file.Files
import kotlin.system.exitProcess

fun check(condition: Boolean, message: () -> String) {
    if (!condition) throw AssertionError(message())
}

class DemoServer(binary: String) {
    private val dataDir: File = Files.createTempDirectory("verivali-kt-server-").toFile()
    private val process: Process = ProcessBuilder(binary, "demo", "--no-phones", "--bind", "127.0.0.1:0", "--data-dir", dataDir.path)
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start()
    val url: String
    val codes: List<String>
    private val supervisorToken: String

    init {
        val lines = mutableListOf<String>()
        val reader = process.inputStream.bufferedReader()
        while (true) {
            val line = reader.readLine() ?: error("the demo server stopped: $lines")
            lines += line
            if (line.contains("listening on")) break
        }
        val text = lines.joinToString("\n")
        url = Regex("listening on (http://\\S+)").find(text)!!.groupValues[1]
        codes = Regex("^  (\\S+)  .+, area (\\S+)$", RegexOption.MULTILINE).findAll(text).map { it.groupValues[1] }.toList()
        supervisorToken = Regex("API token: (\\S+)").find(text)!!.groupValues[1]
    }

    /** The household as the supervisor API answers it (JSON text). */
    fun household(id: String): String {
        val connection = URI("$url/api/v1/households/$id").toURL().openConnection() as HttpURLConnection
        connection.setRequestProperty("Authorization", "Bearer $supervisorToken")
        return connection.inputStream.bufferedReader().readText()
    }

    /** A supervisor's decision (`POST /api/v1/reviews`), as the dashboard would send it. */
    fun review(json: String): String {
        val connection = URI("$url/api/v1/reviews").toURL().openConnection() as HttpURLConnection
        connection.requestMethod = "POST"
        connection.doOutput = true
        connection.setRequestProperty("Authorization", "Bearer $supervisorToken")
        connection.setRequestProperty("Content-Type", "application/json")
        connection.outputStream.use { it.write(json.toByteArray()) }
        check(connection.responseCode == 200) { "review: ${connection.responseCode}" }
        return connection.inputStream.bufferedReader().readText()
    }

    fun stop() {
        process.destroyForcibly().waitFor()
        dataDir.deleteRecursively()
    }
}

/**
 * Runs `checks` against a fresh demo server (the binary `VERIVALI_SERVER_BIN` names) and stops
 * it; a failed check prints its trace and exits 1.
 */
fun withDemoServer(title: String, checks: (DemoServer) -> Unit) {
    val server = DemoServer(System.getenv("VERIVALI_SERVER_BIN") ?: error("VERIVALI_SERVER_BIN is not set"))
    try {
        checks(server)
        println("$title: all checks passed")
    } catch (e: Throwable) {
        e.printStackTrace()
        exitProcess(1)
    } finally {
        server.stop()
    }
}
