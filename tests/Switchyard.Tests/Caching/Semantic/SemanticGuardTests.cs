using Switchyard.Core.Caching.Semantic;
using Xunit;

namespace Switchyard.Tests.Caching.Semantic;

/// <summary>Each guard rule rejects the detail it is for, and leaves rewordings alone.</summary>
public sealed class SemanticGuardTests
{
    [Theory]
    [InlineData("What is 15% of 80?", "What's 15 percent of 80?")]
    [InlineData("Give me three ideas for a party", "Give me 3 party ideas")]
    [InlineData("Write twenty-five lines", "Write 25 lines")]
    [InlineData("Is 1,000 bigger than 999.50?", "Is 1000 bigger than 999.5?")]
    [InlineData("What is the GDP of Germany?", "What is Germany's GDP?")]
    [InlineData("Python: how do I reverse a list?", "How do I reverse a list in python")]
    [InlineData("Fix this error: TypeError: undefined is not a function", "How do I fix \"TypeError: undefined is not a function\"?")]
    [InlineData("What is the distance from the Earth to the Moon?", "How far is the Moon from the Earth?")]
    [InlineData("How do I add a user to a group?", "How to add a user to a group?")]
    [InlineData("I think I broke it. Can you help?", "Can you help, I think I broke it")]
    [InlineData("Why doesn't my build work?", "Why does my build not work?")]
    public void Rewordings_agree(string a, string b)
    {
        Assert.Null(SemanticGuard.Explain(a, b));
        Assert.Null(SemanticGuard.Explain(b, a));
        Assert.True(SemanticGuard.Agrees(a, b));
    }

    [Theory]
    [InlineData("What is 15% of 80?", "What is 15% of 90?", "numbers")]
    [InlineData("Give me three ideas", "Give me five ideas", "numbers")]
    [InlineData("Sort 5, 3, 9, 1", "Sort 5, 3, 9, 1, 1", "numbers")]
    [InlineData("What happened on 2024-03-01?", "What happened on 2024-03-02?", "numbers")]
    [InlineData("Is a hundred enough?", "Is a thousand enough?", "numbers")]
    [InlineData("What is the capital of France?", "What is the capital of Germany?", "entity 'france'")]
    [InlineData("Compare gpt-4o and o3", "Compare gpt-4o-mini and o3", "entity 'gpt-4o mini'")]
    [InlineData("Explain the TCP handshake", "Explain the UDP handshake", "entity 'tcp'")]
    [InlineData("What does `map` do?", "What does `filter` do?", "entity 'map'")]
    [InlineData("Translate \"good morning\"", "Translate \"good night\"", "entity 'good morning'")]
    [InlineData("Is https://example.com/docs down?", "Is https://example.com/status down?", "entity 'https example.com/docs'")]
    [InlineData("Email billing@acme.com", "Email finance@acme.com", "entity 'billing@acme.com'")]
    [InlineData("How do I use useEffect?", "How do I use useMemo?", "entity 'useeffect'")]
    [InlineData("Why is my code working?", "Why is my code not working?", "negation")]
    [InlineData("Make a cake with eggs", "Make a cake without eggs", "negation")]
    [InlineData("Which foods contain gluten?", "Which foods don't contain gluten?", "negation")]
    [InlineData("Convert JSON to YAML", "Convert YAML to JSON", "direction 'to'")]
    [InlineData("Convert 5 miles to kilometers", "Convert 5 kilometers to miles", "direction 'to'")]
    [InlineData("Is Python faster than Java?", "Is Java faster than Python?", "direction 'than'")]
    [InlineData("Move $100 from checking to savings", "Move $100 from savings to checking", "direction 'from'")]
    public void Details_that_change_the_answer_are_rejected(string a, string b, string reason)
    {
        Assert.Equal(reason, SemanticGuard.Explain(a, b));
        Assert.False(SemanticGuard.Agrees(a, b));
        Assert.False(SemanticGuard.Agrees(b, a));
    }

    [Fact]
    public void A_capitalised_word_at_a_sentence_start_is_not_an_entity_but_the_same_word_inside_one_is()
    {
        Assert.True(SemanticGuard.Agrees("Summarize this text.", "Please summarize this text."));
        Assert.False(SemanticGuard.Agrees("Please summarize this for Alice.", "Please summarize this for Bob."));
    }
}
