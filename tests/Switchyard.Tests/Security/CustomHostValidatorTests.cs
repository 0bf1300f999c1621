using Switchyard.Core.Security;
using Xunit;

namespace Switchyard.Tests.Security;

public sealed class CustomHostValidatorTests
{
    private static readonly CustomHostValidator Defaults = new(null);

    [Theory]
    [InlineData("https://api.openai.com/v1", "https://api.openai.com/v1")]
    [InlineData("https://api.openai.com/v1/", "https://api.openai.com/v1")]
    [InlineData("https://api.openai.com/v1//", "https://api.openai.com/v1")]
    [InlineData("  HTTPS://API.Example.COM/V1/Chat  ", "https://api.example.com/V1/Chat")]
    [InlineData("https://api.example.com", "https://api.example.com/")]
    [InlineData("http://8.8.8.8:8080/v1", "http://8.8.8.8:8080/v1")]
    [InlineData("https://example.com:443/x", "https://example.com/x")]
    [InlineData("http://example.com:65535", "http://example.com:65535/")]
    [InlineData("http://[2001:db8::1]:8000/v1", "http://[2001:db8::1]:8000/v1")]
    [InlineData("http://[::ffff:8.8.8.8]/", "http://[::ffff:8.8.8.8]/")]
    [InlineData("https://my-model.eu-west-1.example.ai/v1", "https://my-model.eu-west-1.example.ai/v1")]
    [InlineData("https://a.b.c.d.e.f.g.h.i.example/", "https://a.b.c.d.e.f.g.h.i.example/")] // exactly 10 labels
    [InlineData("https://0x7f.example.com/", "https://0x7f.example.com/")] // numeric-looking label, but not the last one
    [InlineData("http://11.0.0.1", "http://11.0.0.1/")]
    [InlineData("http://172.32.0.1", "http://172.32.0.1/")]
    [InlineData("http://100.128.0.1", "http://100.128.0.1/")]
    [InlineData("http://223.255.255.255", "http://223.255.255.255/")]
    public void AcceptsPublicHostsAndNormalises(string customHost, string expected)
    {
        Assert.True(Defaults.TryValidate(customHost, out var baseUri, out var error), error);
        Assert.Null(error);
        Assert.Equal(expected, baseUri!.AbsoluteUri);
    }

    [Theory]
    // default trusted hosts, and *.localhost because localhost is trusted
    [InlineData("http://localhost:11434/v1", "http://localhost:11434/v1")]
    [InlineData("http://127.0.0.1:8080", "http://127.0.0.1:8080/")]
    [InlineData("http://[::1]:8080/v1/", "http://[::1]:8080/v1")]
    [InlineData("http://[0:0:0:0:0:0:0:1]/", "http://[::1]/")]
    [InlineData("http://host.docker.internal:11434", "http://host.docker.internal:11434/")]
    [InlineData("http://ollama.localhost:11434", "http://ollama.localhost:11434/")]
    public void AcceptsDefaultTrustedHosts(string customHost, string expected)
    {
        Assert.True(Defaults.TryValidate(customHost, out var baseUri, out var error), error);
        Assert.Equal(expected, baseUri!.AbsoluteUri);
    }

    [Theory]
    // empty, control characters, Portkey's own API
    [InlineData(null, "empty")]
    [InlineData("   ", "empty")]
    [InlineData("http://example.com/\n", "control characters")]
    [InlineData("http://exa\tmple.com/", "control characters")]
    [InlineData("http://exa\u0000mple.com/", "control characters")]
    [InlineData("http://example.com/\u0085", "control characters")]
    [InlineData("http://example.com/\u007f", "control characters")]
    [InlineData("https://api.portkey.ai/v1", "api.portkey")]
    [InlineData("https://API.PORTKEY.ai", "api.portkey")]
    // scheme
    [InlineData("example.com/v1", "http:// or https://")]
    [InlineData("//example.com/v1", "http:// or https://")]
    [InlineData("ftp://example.com/", "http or https scheme")]
    [InlineData("file:///etc/passwd", "http or https scheme")]
    [InlineData("gopher://example.com/", "http or https scheme")]
    [InlineData("javascript://example.com/", "http or https scheme")]
    // credentials
    [InlineData("http://user:pass@example.com/", "credentials")]
    [InlineData("http://example.com@127.0.0.1/", "credentials")]
    [InlineData("http://example.com/path@x", "credentials")]
    // whitespace and suspicious characters
    [InlineData("http://exa mple.com/", "whitespace")]
    [InlineData("http://example.com/a b", "whitespace")]
    [InlineData("http://example.com\\@evil.com/", "credentials")]
    [InlineData("http://example.com\\evil.com/", "'\\'")]
    [InlineData("http://ex<ample.com/", "'<'")]
    [InlineData("http://ex>ample.com/", "'>'")]
    [InlineData("http://ex{ample.com/", "'{'")]
    [InlineData("http://ex}ample.com/", "'}'")]
    [InlineData("http://ex|ample.com/", "'|'")]
    [InlineData("http://ex^ample.com/", "'^'")]
    [InlineData("http://ex`ample.com/", "'`'")]
    // query, fragment, structure
    [InlineData("http://example.com/v1?x=1", "query string or fragment")]
    [InlineData("http://example.com/v1#frag", "query string or fragment")]
    [InlineData("http://example.com?x=1", "query string or fragment")]
    [InlineData("http:///v1", "no host name")]
    [InlineData("http://:8080/v1", "no host name")]
    [InlineData("http://[::1/", "closing ']'")]
    [InlineData("http://[::1]x/", "after the IPv6 address")]
    // percent-encoding in the host
    [InlineData("http://%31%32%37.0.0.1/", "percent-encoded")]
    [InlineData("http://[fe80::1%25eth0]/", "percent-encoded")]
    // host alphabet, trailing dot, empty labels, label count
    [InlineData("http://exämple.com/", "ASCII letters, digits, dots and hyphens")]
    [InlineData("http://раураl.com/", "ASCII letters, digits, dots and hyphens")]
    [InlineData("http://exa_mple.com/", "ASCII letters, digits, dots and hyphens")]
    [InlineData("http://example.com./", "must not end with a dot")]
    [InlineData("http://127.0.0.1./", "must not end with a dot")]
    [InlineData("http://example..com/", "empty label")]
    [InlineData("http://.example.com/", "empty label")]
    [InlineData("https://a.b.c.d.e.f.g.h.i.j.example/", "more than 10 labels")]
    [InlineData("http://[not-v6]/", "not a valid IPv6 address")]
    [InlineData("http://[1.2.3.4]/", "not a valid IPv6 address")]
    // port
    [InlineData("http://example.com:0/", "port '0' is invalid")]
    [InlineData("http://example.com:65536/", "port '65536' is invalid")]
    [InlineData("http://example.com:99999/", "port '99999' is invalid")]
    [InlineData("http://example.com:/", "port '' is invalid")]
    [InlineData("http://example.com:80a/", "port '80a' is invalid")]
    [InlineData("http://example.com:-1/", "port '-1' is invalid")]
    [InlineData("http://localhost:0/", "port '0' is invalid")]
    public void RefusesMalformedHosts(string? customHost, string expectedProblem)
    {
        AssertRefused(Defaults, customHost, expectedProblem);
    }

    [Theory]
    // cloud metadata
    [InlineData("http://169.254.169.254/latest/meta-data", "cloud metadata")]
    [InlineData("http://169.254.169.1/", "cloud metadata")]
    [InlineData("http://metadata.google.internal/computeMetadata/v1", "cloud metadata")]
    [InlineData("http://metadata/", "cloud metadata")]
    [InlineData("http://metadata.azure.com/", "cloud metadata")]
    [InlineData("http://instance-data/", "cloud metadata")]
    [InlineData("http://[fd00:ec2::254]/", "cloud metadata")]
    [InlineData("http://[::ffff:169.254.169.254]/", "cloud metadata")]
    [InlineData("http://0.0.0.0:8080/", "0.0.0.0/8")]
    // special-use TLDs
    [InlineData("http://printer.local/", "'.local'")]
    [InlineData("http://db.localdomain/", "'.localdomain'")]
    [InlineData("http://svc.internal/", "'.internal'")]
    [InlineData("http://wiki.intranet/", "'.intranet'")]
    [InlineData("http://nas.lan/", "'.lan'")]
    [InlineData("http://router.home/", "'.home'")]
    [InlineData("http://app.corp/", "'.corp'")]
    [InlineData("http://api.test/", "'.test'")]
    [InlineData("http://x.invalid/", "'.invalid'")]
    [InlineData("http://abc.onion/", "'.onion'")]
    // private and reserved IPv4
    [InlineData("http://10.0.0.5:11434/v1", "10.0.0.0/8")]
    [InlineData("http://172.16.0.1/", "172.16.0.0/12")]
    [InlineData("http://172.31.255.255/", "172.16.0.0/12")]
    [InlineData("http://192.168.1.1/", "192.168.0.0/16")]
    [InlineData("http://127.0.0.2/", "127.0.0.0/8")]
    [InlineData("http://127.255.255.254/", "127.0.0.0/8")]
    [InlineData("http://169.254.1.1/", "169.254.0.0/16")]
    [InlineData("http://100.64.0.1/", "100.64.0.0/10")]
    [InlineData("http://100.127.255.255/", "100.64.0.0/10")]
    [InlineData("http://0.1.2.3/", "0.0.0.0/8")]
    [InlineData("http://224.0.0.1/", "224.0.0.0/3")]
    [InlineData("http://240.0.0.1/", "224.0.0.0/3")]
    [InlineData("http://255.255.255.255/", "224.0.0.0/3")]
    // private and reserved IPv6
    [InlineData("http://[::]/", "::, unspecified")]
    [InlineData("http://[fc00::1]/", "fc00::/7")]
    [InlineData("http://[fd12:3456::1]/", "fc00::/7")]
    [InlineData("http://[fe80::1]/", "fe80::/10")]
    [InlineData("http://[febf::1]/", "fe80::/10")]
    [InlineData("http://[fec0::1]/", "fec0::/10")]
    [InlineData("http://[ff02::1]/", "ff00::/8")]
    [InlineData("http://[::ffff:127.0.0.1]/", "127.0.0.0/8")]
    [InlineData("http://[::ffff:7f00:1]/", "127.0.0.0/8")]
    [InlineData("http://[::ffff:10.0.0.1]/", "10.0.0.0/8")]
    [InlineData("http://[::127.0.0.1]/", "127.0.0.0/8")]
    [InlineData("http://[::192.168.0.1]/", "192.168.0.0/16")]
    [InlineData("http://[64:ff9b::10.0.0.1]/", "10.0.0.0/8")]
    [InlineData("http://[2002:c0a8:0101::1]/", "192.168.0.0/16")]
    // alternative IPv4 spellings (System.Uri would quietly turn every one of these into a dotted quad)
    [InlineData("http://2130706433/", "non-standard IPv4")]
    [InlineData("http://134744072/", "non-standard IPv4")] // 8.8.8.8: refused too, public or not
    [InlineData("http://0x7f000001/", "non-standard IPv4")]
    [InlineData("http://0X7F000001/", "non-standard IPv4")]
    [InlineData("http://0177.0.0.1/", "non-standard IPv4")]
    [InlineData("http://0x7f.0.0.1/", "non-standard IPv4")]
    [InlineData("http://127.0.0.01/", "non-standard IPv4")]
    [InlineData("http://127.1/", "non-standard IPv4")]
    [InlineData("http://127.0.1/", "non-standard IPv4")]
    [InlineData("http://10.1/", "non-standard IPv4")]
    [InlineData("http://256.0.0.1/", "non-standard IPv4")]
    [InlineData("http://1.2.3.4.5/", "non-standard IPv4")]
    [InlineData("http://evil.com.127/", "non-standard IPv4")]
    [InlineData("http://0x/", "non-standard IPv4")]
    // single-label names resolve inside the cluster
    [InlineData("http://ollama:11434/v1", "single-label")]
    [InlineData("http://kubernetes/", "single-label")]
    public void RefusesInternalTargets(string customHost, string expectedProblem)
    {
        AssertRefused(Defaults, customHost, expectedProblem);
    }

    [Fact]
    public void DefaultTrustedHostsAreThePortkeyDefaults()
    {
        Assert.Equal(["localhost", "127.0.0.1", "::1", "host.docker.internal"], CustomHostValidator.DefaultTrustedHosts);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    public void BlankEnvironmentMeansDefaults(string? csv)
    {
        var validator = CustomHostValidator.FromEnvironment(csv);
        Assert.True(validator.TryValidate("http://localhost:11434", out _, out _));
        Assert.False(validator.TryValidate("http://10.1.2.3", out _, out _));
    }

    [Theory]
    [InlineData("http://10.1.2.3:11434/v1", true)]
    [InlineData("http://ollama.internal:11434/v1", true)]
    [InlineData("http://OLLAMA.internal/", true)]
    [InlineData("http://gpu1.corp.example/v1", true)]
    [InlineData("http://a.b.corp.example/", true)]
    [InlineData("https://api.openai.com/v1", true)]       // public hosts stay allowed
    [InlineData("http://10.1.2.4/", false)]               // only the listed address
    [InlineData("http://other.internal/", false)]
    [InlineData("http://localhost:11434/", false)]         // the list replaces the defaults
    [InlineData("http://127.0.0.1:11434/", false)]
    [InlineData("http://ollama.localhost/", false)]        // *.localhost only rides on a trusted localhost
    [InlineData("http://[::1]/", false)]
    [InlineData("http://0x0a010203/", false)]             // trust never excuses a non-standard spelling
    [InlineData("http://user@10.1.2.3/", false)]          // nor any syntax rule
    public void TrustedHostsFromEnvironmentReplaceDefaults(string customHost, bool allowed)
    {
        var validator = CustomHostValidator.FromEnvironment("10.1.2.3, Ollama.Internal ,*.corp.example,,");
        Assert.Equal(allowed, validator.TryValidate(customHost, out var baseUri, out var error));
        Assert.Equal(allowed, baseUri is not null);
        Assert.Equal(allowed, error is null);
    }

    [Theory]
    [InlineData("*.lan", "http://nas.lan/", true)]
    [InlineData("*.lan", "http://a.nas.lan/", true)]
    [InlineData("*.lan", "http://lan/", false)]          // a wildcard covers subdomains, not the suffix itself
    [InlineData(".lan", "http://nas.lan/", true)]
    [InlineData("*.svc.lan", "http://nas.lan/", false)]
    [InlineData("ollama", "http://ollama:11434/", true)] // single-label allowed once trusted
    [InlineData("metadata", "http://metadata/", true)]   // an operator may trust anything explicitly
    [InlineData("10.0.0.5:11434", "http://10.0.0.5:11434/v1", true)]
    [InlineData("10.0.0.5:11434", "http://10.0.0.5:8080/v1", false)]
    [InlineData("10.0.0.5:80", "http://10.0.0.5/v1", true)] // the scheme's default port counts
    [InlineData("fd00::5", "http://[fd00::5]/", true)]
    [InlineData("[fd00::5]:8000", "http://[fd00:0::5]:8000/", true)]
    [InlineData("[fd00::5]:8000", "http://[fd00::5]:9000/", false)]
    [InlineData("localhost:11434", "http://ollama.localhost:11434/", true)]
    [InlineData("localhost:11434", "http://ollama.localhost:8080/", false)]
    public void TrustedHostForms(string trusted, string customHost, bool allowed)
    {
        var validator = new CustomHostValidator([trusted]);
        Assert.Equal(allowed, validator.TryValidate(customHost, out _, out var error));
        if (!allowed) Assert.Contains("TRUSTED_CUSTOM_HOSTS", error);
    }

    [Fact]
    public void EmptyTrustListTrustsNothing()
    {
        var validator = new CustomHostValidator([]);
        AssertRefused(validator, "http://localhost:11434", "single-label");
        AssertRefused(validator, "http://127.0.0.1:11434", "127.0.0.0/8");
        AssertRefused(validator, "http://[::1]:11434", "::1, loopback");
    }

    [Theory]
    [InlineData("http://example.com")]
    [InlineData("example.com/v1")]
    [InlineData("*.")]
    [InlineData("exa mple.com")]
    [InlineData("example.com:0")]
    [InlineData("[::1")]
    [InlineData("[nope]:80")]
    public void MalformedTrustedHostThrows(string entry)
    {
        var ex = Assert.Throws<ArgumentException>(() => new CustomHostValidator([entry]));
        Assert.Contains(entry.Trim().ToLowerInvariant(), ex.Message);
    }

    [Fact]
    public void ErrorNamesTheHostAndTheRemedy()
    {
        Assert.False(Defaults.TryValidate("http://10.0.0.5:11434/v1", out var baseUri, out var error));
        Assert.Null(baseUri);
        Assert.Equal(
            "Custom host '10.0.0.5' is a private or reserved IPv4 address (10.0.0.0/8, private); add it to TRUSTED_CUSTOM_HOSTS to allow it.",
            error);
    }

    private static void AssertRefused(CustomHostValidator validator, string? customHost, string expectedProblem)
    {
        Assert.False(validator.TryValidate(customHost, out var baseUri, out var error));
        Assert.Null(baseUri);
        Assert.NotNull(error);
        Assert.Contains(expectedProblem, error, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith(".", error);
    }
}
