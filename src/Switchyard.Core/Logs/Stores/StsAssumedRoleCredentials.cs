using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;

namespace Switchyard.Core.Logs.Stores;

/// <summary>
/// Temporary credentials of an assumed role (STS AssumeRole, with an external id when the trust policy asks for one),
/// signed with static keys or the default AWS credential chain, and renewed five minutes before they expire.
/// </summary>
/// <remarks>
/// The SDK's own <c>AssumeRoleAWSCredentials</c> does not fit: it builds its STS client by reflection (which trimming
/// breaks) in the region of the SDK's fallback chain rather than <c>LOG_STORE_REGION</c>, and it has no endpoint for
/// <c>AWS_ENDPOINT_DOMAIN</c> or <c>AWS_ENDPOINT_URL_STS</c>. This class is the same call on a client we configure.
/// </remarks>
internal sealed class StsAssumedRoleCredentials : AWSCredentials, IDisposable
{
    private static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);

    private readonly IAmazonSecurityTokenService _sts;
    private readonly string _roleArn;
    private readonly string? _externalId;
    private readonly TimeProvider _time;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ImmutableCredentials? _current;
    private DateTimeOffset _refreshAt;

    public StsAssumedRoleCredentials(IAmazonSecurityTokenService sts, string roleArn, string? externalId, TimeProvider time)
    {
        _sts = sts;
        _roleArn = roleArn;
        _externalId = externalId;
        _time = time;
    }

    /// <summary>AssumeRole calls made so far (each renewal is one).</summary>
    public int Calls => Volatile.Read(ref _calls);

    private int _calls;

    public override ImmutableCredentials GetCredentials() => GetCredentialsAsync().GetAwaiter().GetResult();

    public override async Task<ImmutableCredentials> GetCredentialsAsync()
    {
        if (_current is { } fresh && _time.GetUtcNow() < _refreshAt)
        {
            return fresh;
        }
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_current is { } again && _time.GetUtcNow() < _refreshAt)
            {
                return again;
            }
            Interlocked.Increment(ref _calls);
            var response = await _sts.AssumeRoleAsync(new AssumeRoleRequest
            {
                RoleArn = _roleArn,
                RoleSessionName = "switchyard-log-store",
                ExternalId = _externalId,
                DurationSeconds = 3600,
            }).ConfigureAwait(false);
            var c = response.Credentials ?? throw new AmazonSecurityTokenServiceException($"STS AssumeRole of {_roleArn} returned no credentials.");
            _current = new ImmutableCredentials(c.AccessKeyId, c.SecretAccessKey, c.SessionToken);
            var expires = c.Expiration is { } e ? new DateTimeOffset(DateTime.SpecifyKind(e, e.Kind == DateTimeKind.Unspecified ? DateTimeKind.Utc : e.Kind)) : _time.GetUtcNow().AddMinutes(15);
            _refreshAt = expires - RefreshMargin;
            return _current;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _sts.Dispose();
        _gate.Dispose();
    }
}
