using Switchyard.Core.Requests;
using Switchyard.Core.Routing;
using Xunit;

namespace Switchyard.Tests.Routing;

/// <summary>Provider fields and credentials read from request headers (header mode).</summary>
public sealed class HeaderDefaultsTests
{
    [Fact]
    public void Prefixed_provider_headers_become_fields_and_win_over_plain_forms()
    {
        var headers = new HeaderBag()
            .Set("X-Portkey-OpenAI-Beta", "assistants=v2")
            .Set("openai-beta", "ignored")
            .Set("anthropic-version", "2023-06-01")
            .Set("x-portkey-azure-resource-name", "res")
            .Set("x-portkey-unknown-thing", "dropped")
            .Set("x-portkey-aws-region", "");
        var fields = HeaderDefaults.ReadProviderFields(headers);
        Assert.Equal("assistants=v2", fields["openai_beta"]);
        Assert.Equal("2023-06-01", fields["anthropic_version"]);
        Assert.Equal("res", fields["azure_resource_name"]);
        Assert.Equal(3, fields.Count);
        Assert.Empty(HeaderDefaults.ReadProviderFields(new HeaderBag().Set("content-type", "application/json")));
    }

    [Theory]
    [InlineData("Bearer sk-1", "sk-1")]
    [InlineData("bearer   sk-2 ", "sk-2")]
    [InlineData("sk-raw", "sk-raw")]
    [InlineData("", null)]
    public void Bearer_token_is_taken_from_authorization(string header, string? expected)
    {
        var headers = new HeaderBag();
        if (header.Length > 0)
        {
            headers.Set("Authorization", header);
        }
        Assert.Equal(expected, HeaderDefaults.BearerToken(headers));
    }
}
