// TEMPORARY stub until the i5-redis branch merges.
namespace Switchyard.Redis;
public sealed record RedisClientOptions
{
    public IReadOnlyList<(string Host, int Port)> Endpoints { get; init; } = [];
    public bool Cluster { get; init; }
    public string? Username { get; init; }
    public string? Password { get; init; }
    public Func<CancellationToken, ValueTask<string>>? PasswordProvider { get; init; }
    public bool Tls { get; init; }
    public string? TlsCaFile { get; init; }
    public int Database { get; init; }
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(1);
    public static RedisClientOptions FromUrl(string url) => throw new NotImplementedException();
}
public sealed class RedisClient(RedisClientOptions options) : IAsyncDisposable
{
    public RedisClientOptions Options => options;
    public Task<byte[]?> GetAsync(string key, CancellationToken ct = default) => throw new NotImplementedException();
    public Task SetAsync(string key, ReadOnlyMemory<byte> value, TimeSpan? expiry, CancellationToken ct = default) => throw new NotImplementedException();
    public Task<long> DeleteAsync(string key, CancellationToken ct = default) => throw new NotImplementedException();
    public Task<RespValue> EvalAsync(RedisScript script, IReadOnlyList<string> keys, IReadOnlyList<ReadOnlyMemory<byte>> args, CancellationToken ct = default) => throw new NotImplementedException();
    public string? LastError => null;
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
public sealed class RedisScript(string lua) { public string Source => lua; }
