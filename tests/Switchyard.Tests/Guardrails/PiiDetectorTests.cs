using Switchyard.Core.Guardrails;
using Switchyard.Core.Guardrails.Pii;
using Xunit;
using static Switchyard.Tests.Guardrails.GuardrailKit;

namespace Switchyard.Tests.Guardrails;

public sealed class PiiDetectorTests
{
    private static readonly PiiDetector Detector = PiiDetector.AllCategories;

    [Theory]
    [InlineData("Write to jane.doe+news@mail.example.co.uk today", "Write to [EMAIL] today")]
    [InlineData("Call +1 415 555 0100 now", "Call [PHONE] now")]
    [InlineData("Call +44 20 7946 0958.", "Call [PHONE].")]
    [InlineData("Ring (415) 555-0100 or 415-555-0199", "Ring [PHONE] or [PHONE]")]
    [InlineData("Mobile 07700 900123, office 020 7946 0958", "Mobile [PHONE], office [PHONE]")]
    [InlineData("Appelez le 06 12 34 56 78", "Appelez le [PHONE]")]
    [InlineData("Card 4111 1111 1111 1111 exp 12/29", "Card [CREDIT_CARD] exp 12/29")]
    [InlineData("Card 5555-5555-5555-4444", "Card [CREDIT_CARD]")]
    [InlineData("Amex 378282246310005", "Amex [CREDIT_CARD]")]
    [InlineData("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN [IBAN] please")]
    [InlineData("IBAN DE89370400440532013000", "IBAN [IBAN]")]
    [InlineData("SSN 123-45-6789.", "SSN [NATIONAL_ID].")]
    [InlineData("NINO AB 12 34 56 C", "NINO [NATIONAL_ID]")]
    [InlineData("DNI 12345678Z", "DNI [NATIONAL_ID]")]
    [InlineData("NIE X1234567L", "NIE [NATIONAL_ID]")]
    [InlineData("SIN 130 692 544", "SIN [NATIONAL_ID]")]
    [InlineData("Aadhaar 2345 6789 0124", "Aadhaar [NATIONAL_ID]")]
    [InlineData("from 192.168.10.254 to 8.8.8.8", "from [IP_ADDRESS] to [IP_ADDRESS]")]
    [InlineData("v6 2001:db8::ff00:42:8329 and ::1", "v6 [IP_ADDRESS] and [IP_ADDRESS]")]
    [InlineData("key sk-proj-abcdefghijklmnopqrstuvwxyz0123456789ABCD", "key [SECRET]")]
    [InlineData("aws AKIAIOSFODNN7EXAMPLE", "aws [SECRET]")]
    [InlineData("gh ghp_abcdefghijklmnopqrstuvwxyz0123456789", "gh [SECRET]")]
    [InlineData("slack xoxb-123456789012-abcdefghij", "slack [SECRET]")]
    [InlineData("Authorization: Bearer abc123def456ghi789jkl", "Authorization: Bearer [SECRET]")]
    [InlineData("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "jwt [SECRET]")]
    public void Finds_and_redacts_each_category(string text, string expected) => Assert.Equal(expected, Detector.Redact(text));

    [Fact]
    public void Pem_private_keys_are_redacted_whole_and_unterminated_ones_to_the_end()
    {
        var pem = "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx\nabc\n-----END RSA PRIVATE KEY-----\nthanks";
        Assert.Equal("key:\n[SECRET]\nthanks", Detector.Redact(pem));
        Assert.Equal("oops [SECRET]", Detector.Redact("oops -----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN"));
    }

    [Theory]
    [InlineData("Order #12345678 shipped on 2024-05-17 at 10:30")]
    [InlineData("Invoice 4111 1111 1111 1112 is not a card (bad Luhn)")]
    [InlineData("Reference 1234 5678 9012 3456 (no issuer)")]
    [InlineData("Tracking 1Z999AA10123456784 and SKU 555-12")]
    [InlineData("Dates 12/05/2024, 2024.01.15 and 01-02-2024")]
    [InlineData("Version 1.2.3 released; build 20240517")]
    [InlineData("IBAN-like GB82 WEST 1234 5698 7654 33 fails mod 97")]
    [InlineData("SSN-like 000-12-3456 and 666-12-3456 and 123-00-4567")]
    [InlineData("DNI-like 12345678A has the wrong letter")]
    [InlineData("Time 12:30:45 and ratio 3:2 and std::vector")]
    [InlineData("Numbers 123456789 and 9876543210 without separators")]
    [InlineData("The task-management-system-overview is sk-short")]
    [InlineData("Call extension 555-0100 internally")]
    public void Does_not_flag_ordinary_numbers_dates_or_invalid_checksums(string text)
    {
        Assert.Empty(Detector.Find(text));
    }

    [Fact]
    public void Categories_restrict_what_is_found()
    {
        var onlyEmail = new PiiDetector([PiiCategory.Email]);
        Assert.Equal("[EMAIL] 415-555-0100", onlyEmail.Redact("a@b.io 415-555-0100"));
        var finding = Assert.Single(new PiiDetector([PiiCategory.Phone]).Find("a@b.io 415-555-0100"));
        Assert.Equal(PiiCategory.Phone, finding.Category);
        Assert.Equal(7, finding.Start);
    }

    [Fact]
    public async Task Check_redacts_every_message_of_the_request_by_default()
    {
        var ctx = Context("""
            {"model":"m","messages":[{"role":"user","content":"my card is 4111111111111111"},{"role":"assistant","content":"noted"},{"role":"user","content":"mail x@y.org"}]}
            """);
        var outcome = await Check("default.pii", "{}").RunAsync(ctx, HookEvent.BeforeRequest);
        Assert.True(outcome.Verdict);
        Assert.True(outcome.Transformed);
        var messages = outcome.TransformedRequest!["messages"]!.AsArray();
        Assert.Equal("my card is [CREDIT_CARD]", Str(messages[0]!["content"]));
        Assert.Equal("mail [EMAIL]", Str(messages[2]!["content"]));
        Assert.Equal(1, outcome.Data!["categories"]!["credit_card"]!.GetValue<int>());
        Assert.DoesNotContain("4111", outcome.Data!.ToJsonString());

        var current = await Check("default.pii", """{"scope":"current"}""").RunAsync(ctx, HookEvent.BeforeRequest);
        Assert.Equal("my card is 4111111111111111", Str(current.TransformedRequest!["messages"]![0]!["content"]));
    }

    [Fact]
    public async Task Check_modes_detect_only_failOnDetection_not_and_response()
    {
        var detectOnly = Check("default.pii", """{"redact":false}""");
        var found = await detectOnly.RunAsync(Chat("ssn 123-45-6789"), HookEvent.BeforeRequest);
        Assert.False(found.Verdict);
        Assert.False(found.Transformed);
        Assert.True((await detectOnly.RunAsync(Chat("nothing here"), HookEvent.BeforeRequest)).Verdict);

        var strict = await Check("default.pii", """{"failOnDetection":true}""").RunAsync(Chat("ip 10.0.0.1"), HookEvent.BeforeRequest);
        Assert.False(strict.Verdict);
        Assert.True(strict.Transformed);

        var inverted = await Check("default.pii", """{"redact":false,"not":true}""").RunAsync(Chat("ip 10.0.0.1"), HookEvent.BeforeRequest);
        Assert.True(inverted.Verdict);

        var after = await Check("default.pii", """{"categories":["secret"]}""", HookEvent.AfterRequest)
            .RunAsync(Answer("use AKIAIOSFODNN7EXAMPLE and mail a@b.io"), HookEvent.AfterRequest);
        Assert.Equal("use [SECRET] and mail a@b.io", Str(after.TransformedResponse!["choices"]![0]!["message"]!["content"]));
    }
}
