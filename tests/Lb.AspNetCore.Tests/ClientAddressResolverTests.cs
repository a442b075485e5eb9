using System.Net;
using Lb.AspNetCore.Proxy;
using Lb.AspNetCore.Options;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Lb.AspNetCore.Tests;

public class ClientAddressResolverTests
{
    private static (IPAddress? Address, int Port) Resolve(string[] trusted, string peer, params (string Name, string Value)[] headers)
    {
        var resolver = new ClientAddressResolver(Microsoft.Extensions.Options.Options.Create(new ProxyOptions { TrustedProxies = trusted }));
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = IPAddress.Parse(peer);
        context.Connection.RemotePort = 40000;
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }
        return resolver.Resolve(context);
    }

    [Fact]
    public void Forwarding_headers_from_an_untrusted_peer_are_ignored() =>
        Assert.Equal((IPAddress.Parse("192.0.2.9"), 40000), Resolve([], "192.0.2.9", ("X-Forwarded-For", "203.0.113.10")));

    [Fact]
    public void Behind_trusted_proxies_the_client_is_the_rightmost_untrusted_x_forwarded_for_entry() =>
        Assert.Equal((IPAddress.Parse("203.0.113.10"), 0), Resolve(["10.0.0.0/8"], "10.1.2.3", ("X-Forwarded-For", "203.0.113.10, 10.9.9.9")));

    [Fact]
    public void A_client_cannot_choose_its_address_by_sending_its_own_x_forwarded_for() =>
        Assert.Equal((IPAddress.Parse("203.0.113.10"), 0), Resolve(["10.0.0.0/8"], "10.1.2.3", ("X-Forwarded-For", "1.2.3.4"), ("X-Forwarded-For", "203.0.113.10, 10.9.9.9")));

    [Fact]
    public void A_client_cannot_choose_its_address_by_sending_its_own_forwarded_element() =>
        Assert.Equal((IPAddress.Parse("203.0.113.10"), 0), Resolve(["10.0.0.0/8"], "10.1.2.3", ("Forwarded", "for=1.2.3.4, for=203.0.113.10;proto=http, for=10.9.9.9")));

    [Fact]
    public void When_every_hop_is_trusted_the_leftmost_is_the_client() =>
        Assert.Equal((IPAddress.Parse("10.0.0.5"), 0), Resolve(["10.0.0.0/8"], "10.1.2.3", ("X-Forwarded-For", "10.0.0.5, 10.9.9.9")));

    [Fact]
    public void Forwarded_for_wins_over_x_forwarded_for_and_obfuscated_ids_are_skipped() =>
        Assert.Equal((IPAddress.Parse("2001:db8::7"), 0), Resolve(["10.1.2.3"], "10.1.2.3",
            ("Forwarded", "for=_hidden, for=\"[2001:db8::7]:4711\";proto=https"), ("X-Forwarded-For", "203.0.113.10")));

    [Fact]
    public void Garbage_in_the_headers_falls_back_to_the_peer() =>
        Assert.Equal((IPAddress.Parse("10.1.2.3"), 40000), Resolve(["10.0.0.0/8"], "10.1.2.3", ("X-Forwarded-For", "not-an-ip")));
}
