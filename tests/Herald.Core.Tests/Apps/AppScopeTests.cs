using System.Globalization;
using Herald.Core.Apps;

namespace Herald.Core.Tests.Apps;

public sealed class AppScopeTests
{
    private static readonly AppRegistry Apps = new(
    [
        new AppOptions { Id = "shop", Key = "shop-key", Secret = "s1" },
        new AppOptions { Id = "blog", Key = "blog-key", Secret = "s2" },
        new AppOptions { Id = "main", Key = "main-key", Secret = "s3" },
    ], "main");

    private static AppOptions App(string id) => Apps.TryGetById(id, out var app) ? app : throw new InvalidOperationException(id);

    [Fact]
    public void The_default_apps_names_are_the_nodes_own_and_other_apps_names_carry_the_app_id()
    {
        Assert.Equal("orders", AppScope.Scope(App("main"), "orders"));
        Assert.Equal("shop orders", AppScope.Scope(App("shop"), "orders"));
        Assert.Equal("blog orders", AppScope.Scope(App("blog"), "orders"));
    }

    [Fact]
    public void A_scoped_name_reads_back_only_in_its_own_app()
    {
        var scoped = AppScope.Scope(App("shop"), "presence-room");

        Assert.True(AppScope.TryUnscope(App("shop"), scoped, out var name));
        Assert.Equal("presence-room", name);
        Assert.False(AppScope.IsInApp(App("blog"), scoped));
        Assert.False(AppScope.IsInApp(App("main"), scoped)); // it holds a space: never a default-app name
        Assert.True(AppScope.IsInApp(App("main"), "presence-room"));
        Assert.False(AppScope.IsInApp(App("shop"), "presence-room"));
        Assert.False(AppScope.IsInApp(App("shop"), "shop ")); // the prefix alone names nothing
        Assert.False(AppScope.IsInApp(App("shop"), "shopx orders")); // another app whose id starts alike
    }

    [Fact]
    public void Names_with_a_space_or_empty_are_refused_so_none_can_pose_as_another_apps()
    {
        Assert.Throws<ArgumentException>(() => AppScope.Scope(App("main"), "shop orders"));
        Assert.Throws<ArgumentException>(() => AppScope.Scope(App("blog"), "x y"));
        Assert.Throws<ArgumentException>(() => AppScope.Scope(App("blog"), ""));
        Assert.False(AppScope.IsInApp(App("shop"), "shop a b"));
    }

    [Fact]
    public void The_prefix_lists_exactly_an_apps_names()
    {
        Assert.Equal("shop ", AppScope.Prefix(App("shop")));
        Assert.Equal("", AppScope.Prefix(App("main")));
        Assert.StartsWith(AppScope.Prefix(App("shop")), AppScope.Scope(App("shop"), "a"), StringComparison.Ordinal);
        var alike = new AppRegistry([new AppOptions { Id = "shop", Key = "k1", Secret = "s" }, new AppOptions { Id = "shopx", Key = "k2", Secret = "s" }], null);
        Assert.False(AppScope.Scope(alike.All[1], "a").StartsWith(AppScope.Prefix(alike.All[0]), StringComparison.Ordinal));
    }

    [Fact]
    public void Random_names_of_different_apps_never_meet()
    {
        var seed = int.TryParse(Environment.GetEnvironmentVariable("HERALD_APPSCOPE_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s)
            ? s
            : Random.Shared.Next();
        var random = new Random(seed);
        const string idChars = "abAB01_.-";
        const string nameChars = "abAB01_-=@,.;#";
        string Word(string chars, int max) => new([.. Enumerable.Range(0, random.Next(1, max + 1)).Select(_ => chars[random.Next(chars.Length)])]);
        for (var round = 0; round < 200; round++)
        {
            var ids = Enumerable.Range(0, 4).Select(_ => Word(idChars, 4)).Distinct(StringComparer.Ordinal).ToList();
            var registry = new AppRegistry(ids.Select((id, i) => new AppOptions { Id = id, Key = "k" + i, Secret = "s" }), ids[0]);
            var names = Enumerable.Range(0, 20).Select(_ => Word(nameChars, 6)).Distinct(StringComparer.Ordinal).ToList();
            var owner = new Dictionary<string, (string App, string Name)>(StringComparer.Ordinal);
            foreach (var app in registry.All)
            {
                foreach (var name in names)
                {
                    var scoped = AppScope.Scope(app, name);
                    Assert.True(owner.TryAdd(scoped, (app.Id, name)),
                        $"HERALD_APPSCOPE_SEED={seed}: '{name}' of app '{app.Id}' and '{owner.GetValueOrDefault(scoped).Name}' of app '{owner.GetValueOrDefault(scoped).App}' are both '{scoped}'");
                    foreach (var other in registry.All)
                    {
                        var inOther = AppScope.TryUnscope(other, scoped, out var back);
                        Assert.True(inOther == (other.Id == app.Id), $"HERALD_APPSCOPE_SEED={seed}: '{scoped}' (app '{app.Id}') read as in app '{other.Id}'");
                        Assert.True(!inOther || back == name, $"HERALD_APPSCOPE_SEED={seed}: '{scoped}' read back as '{back}', not '{name}'");
                    }
                }
            }
        }
    }

    [Fact]
    public void A_default_app_user_id_with_a_space_never_equals_another_apps_user()
    {
        // A token's sub may hold a space: "shop alice" of the default app must stay apart from app shop's "alice".
        var shopAlice = AppScope.ScopeUser(App("shop"), "alice");
        Assert.NotEqual("shop alice", shopAlice);
        Assert.Equal("shop alice", AppScope.ScopeUser(App("main"), "shop alice"));
        Assert.True(AppScope.TryUnscopeUser(App("shop"), shopAlice, out var back));
        Assert.Equal("alice", back);
        Assert.False(AppScope.TryUnscopeUser(App("main"), shopAlice, out _));
        Assert.False(AppScope.TryUnscopeUser(App("blog"), shopAlice, out _));
        Assert.False(AppScope.TryUnscopeUser(App("shop"), "shop alice", out _));
        Assert.True(AppScope.TryUnscopeUser(App("main"), "shop alice", out var own));
        Assert.Equal("shop alice", own);
    }

    [Theory]
    [InlineData("")]
    [InlineData("a\u001Fb")]
    [InlineData("a\u0000")]
    [InlineData("\u007F")]
    public void A_user_id_with_a_control_character_cannot_be_scoped(string escaped)
    {
        var user = System.Text.RegularExpressions.Regex.Unescape(escaped);
        Assert.False(Herald.Core.Users.UserIds.IsValid(user, out var error));
        Assert.NotEmpty(error);
        Assert.Throws<ArgumentException>(() => AppScope.ScopeUser(App("shop"), user));
        Assert.Throws<ArgumentException>(() => AppScope.ScopeUser(App("main"), user));
    }

    [Fact]
    public void A_presence_member_is_named_as_its_own_app_names_it()
    {
        // member_added and the member list show a user as its app's clients know it, never marked with another app.
        var shopChannel = AppScope.Scope(App("shop"), "presence-room");
        Assert.Equal("alice", AppScope.LocalUser(shopChannel, AppScope.ScopeUser(App("shop"), "alice")));
        Assert.Equal("shop alice", AppScope.LocalUser("presence-room", "shop alice")); // a default-app user id with a space
        Assert.Equal("presence-room", AppScope.LocalName(shopChannel));
    }
}

