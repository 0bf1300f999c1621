using System.Diagnostics;
using System.Globalization;

namespace Switchyard.Tests.Redis;

/// <summary>
/// Admin commands for tests through redis-cli (same Debian package as redis-server), so what a test arranges or checks
/// on a server does not go through the client under test. Replies are redis-cli's plain output; an error reply throws.
/// </summary>
internal sealed record RedisCli(int Port)
{
    public string? Password { get; init; }

    public string? Username { get; init; }

    /// <summary>PEM CA file: connect with TLS, trusting it.</summary>
    public string? TlsCaFile { get; init; }

    /// <summary>Runs one command; returns the reply as text (an array: one item per line; nil: empty).</summary>
    public async Task<string> RunAsync(params string[] command)
    {
        var start = new ProcessStartInfo("redis-cli") { RedirectStandardOutput = true, RedirectStandardError = true };
        // -e: an error reply ends redis-cli with a non-zero exit code.
        foreach (var arg in (string[])["-e", "-h", "127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture)])
        {
            start.ArgumentList.Add(arg);
        }
        if (TlsCaFile is { } ca)
        {
            start.ArgumentList.Add("--tls");
            start.ArgumentList.Add("--cacert");
            start.ArgumentList.Add(ca);
        }
        if (Username is { } user)
        {
            start.ArgumentList.Add("--user");
            start.ArgumentList.Add(user);
        }
        if (Password is { } password)
        {
            start.ArgumentList.Add("--pass");
            start.ArgumentList.Add(password);
            start.ArgumentList.Add("--no-auth-warning");
        }
        foreach (var arg in command)
        {
            start.ArgumentList.Add(arg);
        }
        using var process = Process.Start(start) ?? throw new InvalidOperationException("redis-cli did not start (is it installed? test.sh installs it)");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        var text = (await output).TrimEnd('\n');
        if (process.ExitCode != 0)
        {
            // redis-cli prints an error reply on stderr or stdout depending on its version.
            var reply = (text + "\n" + await errors).Trim();
            throw new RedisCliException($"redis-cli {string.Join(' ', command)} failed: {reply}", reply);
        }
        return text;
    }

    /// <summary>An array reply's items.</summary>
    public async Task<string[]> ItemsAsync(params string[] command) =>
        (await RunAsync(command)).Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public async Task<long> IntegerAsync(params string[] command) =>
        long.Parse(await RunAsync(command), CultureInfo.InvariantCulture);
}

/// <summary>An error reply (or no connection) seen by redis-cli; <see cref="Reply"/> starts with the server's error code.</summary>
internal sealed class RedisCliException(string message, string reply) : Exception(message)
{
    public string Reply { get; } = reply;
}
