using System.Security.Cryptography.X509Certificates;
using Switchyard.Redis;
using Switchyard.Simulators.Azure;
using Xunit;

namespace Switchyard.Tests.Redis;

/// <summary>RedisClient over TLS to a real redis-server whose certificate is signed by a throwaway CA (like a self-signed Memorystore CA).</summary>
public sealed class RedisTlsTests
{
    internal sealed class TlsServer : IAsyncDisposable
    {
        private readonly string _dir;

        private TlsServer(TestCertificateAuthority ca, RedisServer server, string dir)
        {
            Ca = ca;
            Server = server;
            _dir = dir;
        }

        public TestCertificateAuthority Ca { get; }

        public RedisServer Server { get; }

        public static async Task<TlsServer> StartAsync()
        {
            var ca = TestCertificateAuthority.Create();
            var dir = Directory.CreateTempSubdirectory("switchyard-redis-tls-").FullName;
            var cert = Path.Combine(dir, "server.crt");
            var key = Path.Combine(dir, "server.key");
            await File.WriteAllTextAsync(cert, ca.Server.ExportCertificatePem());
            await File.WriteAllTextAsync(key, ca.Server.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
            return new TlsServer(ca, await RedisServer.StartTlsAsync(cert, key, ca.CaPemFile), dir);
        }

        public async ValueTask DisposeAsync()
        {
            await Server.DisposeAsync();
            Ca.Dispose();
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static RedisClientOptions Options(TlsServer tls, string host = "127.0.0.1") => new()
    {
        Endpoints = [(host, tls.Server.Port)],
        Tls = true,
        ConnectionsPerNode = 1,
        ReconnectMinDelay = TimeSpan.Zero,
    };

    [Fact]
    public async Task Tls_with_the_ca_file_works_for_the_ip_and_the_host_name_in_the_certificate()
    {
        await using var tls = await TlsServer.StartAsync();
        await using (var client = new RedisClient(Options(tls) with { TlsCaFile = tls.Ca.CaPemFile }))
        {
            await client.SetAsync("over-tls", "yes"u8.ToArray(), TimeSpan.FromMinutes(1));
            Assert.Equal("yes"u8.ToArray(), await client.GetAsync("over-tls"));
            Assert.True(client.IsConnected);
        }
        await using (var byName = new RedisClient(Options(tls, "localhost") with { TlsCaFile = tls.Ca.CaPemFile }))
        {
            Assert.Equal("yes"u8.ToArray(), await byName.GetAsync("over-tls"));
        }
        await using (var viaUrl = new RedisClient(RedisClientOptions.FromUrl($"rediss://127.0.0.1:{tls.Server.Port}/0") with { TlsCaFile = tls.Ca.CaPemFile }))
        {
            await viaUrl.PingAsync();
        }
    }

    [Fact]
    public async Task Tls_without_the_ca_or_with_another_ca_or_another_name_fails_with_a_certificate_error()
    {
        await using var tls = await TlsServer.StartAsync();
        using var otherCa = TestCertificateAuthority.Create();

        await using (var systemRootsOnly = new RedisClient(Options(tls)))
        {
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => systemRootsOnly.PingAsync());
            Assert.Contains("certificate is not trusted", error.Message, StringComparison.Ordinal);
            Assert.Contains("certificate", systemRootsOnly.LastError, StringComparison.Ordinal);
        }
        await using (var wrongCa = new RedisClient(Options(tls) with { TlsCaFile = otherCa.CaPemFile }))
        {
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => wrongCa.PingAsync());
            Assert.Contains("certificate is not signed by the configured CA", error.Message, StringComparison.Ordinal);
        }
        await using (var wrongName = new RedisClient(Options(tls) with { TlsCaFile = tls.Ca.CaPemFile, TlsServerName = "redis.example.com" }))
        {
            var error = await Assert.ThrowsAsync<RedisConnectionException>(() => wrongName.PingAsync());
            Assert.Contains("certificate does not match the host name", error.Message, StringComparison.Ordinal);
        }
        await using (var plain = new RedisClient(Options(tls) with { Tls = false, CommandTimeout = TimeSpan.FromMilliseconds(500) }))
        {
            await Assert.ThrowsAsync<RedisConnectionException>(() => plain.PingAsync());
        }
    }

    [Fact]
    public void A_missing_ca_file_is_a_configuration_error_at_construction()
    {
        var error = Assert.Throws<ArgumentException>(() => new RedisClient(new RedisClientOptions
        {
            Endpoints = [("127.0.0.1", 6379)],
            Tls = true,
            TlsCaFile = "/nonexistent/ca.pem",
        }));
        Assert.Contains("/nonexistent/ca.pem", error.Message, StringComparison.Ordinal);
    }
}
