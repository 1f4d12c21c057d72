// The shared logic against a real server on the desktop JVM. scripts/test-bindings.sh compiles
// the same sources with kotlinc; this module is for running it from Gradle:
//   VERIVALI_SERVER_BIN=$PWD/../target/debug/verivali-server gradle :harness:run
plugins {
    id("org.jetbrains.kotlin.jvm")
    application
}

kotlin {
    jvmToolchain(17)
    // DemoServer.kt and the bindings test beside it (their names do not clash).
    sourceSets["main"].kotlin.srcDir("../../bindings/tests/kotlin")
}

application {
    mainClass.set("HarnessKt")
    applicationDefaultJvmArgs = listOf("-Djna.library.path=${rootDir}/../target/debug")
}

dependencies {
    implementation(project(":shared"))
    implementation("net.java.dev.jna:jna:5.15.0")
}
