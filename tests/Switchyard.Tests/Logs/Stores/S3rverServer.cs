namespace Switchyard.Tests.Logs.Stores;

/// <summary>
/// npm <c>s3rver</c> 3.7.1 on 127.0.0.1 with bucket <see cref="Bucket"/>. It accepts any SigV4 signature but only the access
/// key ids it knows: <see cref="AccessKey"/> (S3RVER) and those passed to the constructor, and refuses others with
/// <c>InvalidAccessKeyId</c>. Use it as an xunit class fixture, or create one per test for kill-the-store tests
/// (<see cref="NodeServerProcess.StopAsync"/> / <see cref="NodeServerProcess.StartAgainAsync"/> keep port and data).
/// </summary>
public sealed class S3rverServer : NodeServerProcess
{
    /// <summary>The bucket s3rver creates at start (kept across restarts in the data directory).</summary>
    public const string Bucket = "switchyard-logs";

    /// <summary>s3rver's built-in access key id; its secret is not checked.</summary>
    public const string AccessKey = "S3RVER";

    public const string SecretKey = "S3RVER";

    private readonly string[] _extraAccessKeys;

    public S3rverServer()
        : this([])
    {
    }

    private S3rverServer(string[] extraAccessKeys)
        : base("s3rver")
    {
        _extraAccessKeys = extraAccessKeys;
    }

    /// <summary>A server that also accepts these access key ids (e.g. the temporary key an STS fake issues).</summary>
    public static S3rverServer WithAccessKeys(params string[] accessKeyIds) => new(accessKeyIds);

    /// <summary>The S3 endpoint (path-style; the bucket is the first path segment).</summary>
    public Uri Endpoint => new($"http://127.0.0.1:{Port}");

    protected override (string Script, IReadOnlyList<string> Arguments) Command() =>
        ("s3rver-with-keys.cjs", ["--directory", DataDirectory, "--address", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--silent", "--no-vhost-buckets", "--configure-bucket", Bucket]);

    protected override IReadOnlyDictionary<string, string> Environment =>
        new Dictionary<string, string> { ["S3RVER_EXTRA_ACCESS_KEYS"] = string.Join(',', _extraAccessKeys) };
}
