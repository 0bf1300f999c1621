using System.Security.Cryptography.X509Certificates;
using Switchyard.Core.Redis;
using Switchyard.Simulators.Azure;
using Xunit;

namespace Switchyard.Tests.Redis;

/// <summary>RedisConnection over TLS to a real redis-server whose certificate is signed by a throwaway CA (like a self-signed Memorystore CA).</summary>
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

    private static RedisOptions Options(TlsServer tls, string host = "127.0.0.1") => new()
    {
        Endpoints = [(host, tls.Server.Port)],
        Tls = true,
        ReconnectMinDelay = TimeSpan.Zero,
    };

    [Fact]
    public async Task Tls_with_the_ca_file_works_for_the_ip_and_the_host_name_in_the_certificate()
    {
        await using var tls = await TlsServer.StartAsync();
        await using (var redis = new RedisConnection(Options(tls) with { TlsCaFile = tls.Ca.CaPemFile }))
        {
            await redis.RunAsync(db => db.StringSetAsync("over-tls", "yes", TimeSpan.FromMinutes(1)), default);
            Assert.Equal("yes", (string?)await redis.RunAsync(db => db.StringGetAsync("over-tls"), default));
            Assert.True(redis.IsConnected);
            Assert.Null(redis.Problem);
            // What the server saw: this client, over TLS (the server has no plain port).
            Assert.Contains("name=switchyard", await new RedisCli(tls.Server.Port) { TlsCaFile = tls.Ca.CaPemFile }.RunAsync("CLIENT", "LIST"), StringComparison.Ordinal);
        }
        await using (var byName = new RedisConnection(Options(tls, "localhost") with { TlsCaFile = tls.Ca.CaPemFile }))
        {
            Assert.Equal("yes", (string?)await byName.RunAsync(db => db.StringGetAsync("over-tls"), default));
        }
        await using (var viaUrl = new RedisConnection(RedisOptions.FromUrl($"rediss://127.0.0.1:{tls.Server.Port}/0") with { TlsCaFile = tls.Ca.CaPemFile }))
        {
            await viaUrl.PingAsync();
        }
    }

    [Fact]
    public async Task Tls_without_the_ca_or_with_another_ca_or_another_name_fails_with_a_certificate_error()
    {
        await using var tls = await TlsServer.StartAsync();
        using var otherCa = TestCertificateAuthority.Create();

        await using (var systemRootsOnly = new RedisConnection(Options(tls)))
        {
            var error = await Assert.ThrowsAsync<RedisUnavailableException>(() => systemRootsOnly.PingAsync());
            Assert.Contains("certificate is not trusted", error.Message, StringComparison.Ordinal);
            Assert.Contains("certificate", systemRootsOnly.Problem, StringComparison.Ordinal);
            Assert.False(systemRootsOnly.IsConnected);
        }
        await using (var wrongCa = new RedisConnection(Options(tls) with { TlsCaFile = otherCa.CaPemFile }))
        {
            var error = await Assert.ThrowsAsync<RedisUnavailableException>(() => wrongCa.PingAsync());
            Assert.Contains("certificate is not signed by the configured CA", error.Message, StringComparison.Ordinal);
        }
        await using (var wrongName = new RedisConnection(Options(tls) with { TlsCaFile = tls.Ca.CaPemFile, TlsServerName = "redis.example.com" }))
        {
            var error = await Assert.ThrowsAsync<RedisUnavailableException>(() => wrongName.PingAsync());
            Assert.Contains("certificate does not match the host name", error.Message, StringComparison.Ordinal);
        }
        await using (var plain = new RedisConnection(Options(tls) with { Tls = false, ConnectTimeout = TimeSpan.FromMilliseconds(500), CommandTimeout = TimeSpan.FromMilliseconds(500) }))
        {
            await Assert.ThrowsAsync<RedisUnavailableException>(() => plain.PingAsync());
            Assert.NotNull(plain.Problem);
        }
    }

    [Fact]
    public void A_missing_ca_file_is_a_configuration_error_at_construction()
    {
        var error = Assert.Throws<ArgumentException>(() => new RedisConnection(new RedisOptions
        {
            Endpoints = [("127.0.0.1", 6379)],
            Tls = true,
            TlsCaFile = "/nonexistent/ca.pem",
        }));
        Assert.Contains("/nonexistent/ca.pem", error.Message, StringComparison.Ordinal);
    }
}
