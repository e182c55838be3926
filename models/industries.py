"""The default taxonomy of each industry an account may start from (DESIGN §2): `saas` (the default),
`ecommerce` and `media`. Tag names are part of the contract; keywords add a tag by rule (whole words,
case-insensitive), so each list holds only words that name the theme on their own.
"""

from __future__ import annotations

from verbatim.models.taxonomy import DEFAULT_ACCOUNT, DEFAULT_TAXONOMY, Taxonomy, make_tag

ECOMMERCE_TAXONOMY = Taxonomy((
    make_tag("Delivery", "Shipping speed, delivery dates and slots, tracking, couriers, late or missing parcels.",
         "delivery, deliveries, shipping, shipped, courier, tracking number, parcel, parcels, delivery slot, "
         "arrived late, never arrived, dispatch, dispatched"),
    make_tag("Returns & refunds", "Sending items back, return labels and fees, refunds and exchanges.",
         "return, returns, returned, returning, refund, refunds, refunded, exchange, return label"),
    make_tag("Product quality", "The item itself: condition, defects, durability, not as described, size and fit.",
         "quality, defective, faulty, broke after, fell apart, not as described, poor quality, cheaply made, "
         "true to size, runs small, runs large, stitching"),
    make_tag("Price", "Cost, shipping fees, discounts and sales, value for money.",
         "price, prices, pricing, expensive, cheap, overpriced, discount, discounts, value for money, "
         "delivery fee, shipping fee, shipping fees"),
    make_tag("Customer service", "Contacting support: agents, chat, phone, email, response times, resolutions.",
         "customer service, customer support, support team, agent, live chat, hotline, call centre, "
         "call center"),
    make_tag("Website & app", "The website or app: navigation, search, filters, bugs, crashes, account pages.",
         "website, search bar, search results, filters, the app keeps crashing, app crashes, app update"),
    make_tag("Checkout & payment", "Basket and checkout, payment methods, promo codes, double charges, BNPL.",
         "checkout, check out, payment, payments, paypal, klarna, apple pay, card declined, promo code, "
         "discount code, voucher, charged twice"),
    make_tag("Selection & stock", "Range of products, availability, out of stock, sizes or colours missing, "
                              "substitutions.",
         "out of stock, in stock, selection, range, sold out, substitution, substitutions, substituted, "
         "availability, restock"),
    make_tag("Packaging", "The box and wrapping: damage, excess plastic, presentation, gift wrap.",
         "packaging, packaged, bubble wrap, gift wrap, gift wrapped, crushed box, damaged box, box was damaged"),
))

MEDIA_TAXONOMY = Taxonomy((
    make_tag("Content", "The catalogue: shows, films, music, podcasts, articles, journalism, originals, removed "
                    "titles, live sport.",
         "content, catalogue, catalog, documentaries, journalism, reporting, originals, "
         "new releases, back catalogue"),
    make_tag("Streaming quality", "Buffering, resolution, audio and video sync, outages, playback errors, live lag.",
         "buffering, buffers, stream quality, resolution, pixelated, 4k, hd, playback, lag, lagging, stutters, "
         "out of sync, outage"),
    make_tag("Apps & devices", "App bugs and design, TV, console, phone, car and speaker support, downloads, "
                           "casting.",
         "smart tv, roku, fire stick, firestick, chromecast, airplay, apple tv, android tv, playstation, "
         "xbox, carplay, android auto, offline downloads, the app crashes, app keeps crashing"),
    make_tag("Ads", "Adverts in the plan, too many or too long, the ad-free tier.",
         "ad, ads, advert, adverts, advertising, commercials, ad-free, ad free"),
    make_tag("Subscription & billing", "Plans and tiers, charges, renewals, trials, cancelling, failed payments.",
         "billing, billed, charged, renewal, renewed, auto-renew, auto-renewal, free trial, "
         "cancellation, cancel my subscription, invoice, payment failed"),
    make_tag("Price", "Cost, price increases, value for money, discounts, family and student plans' price.",
         "price, prices, pricing, expensive, cheap, overpriced, price increase, price hike, value for money, "
         "too much money"),
    make_tag("Customer service", "Contacting support: agents, chat, response times, resolutions.",
         "customer service, customer support, support team, agent, live chat, helpline"),
    make_tag("Recommendations", "Personalisation, the home feed, suggestions, autoplay choices, made-for-you "
                            "playlists.",
         "recommendations, recommendation, recommended, algorithm, suggestions, suggested, for you, "
         "discover weekly, personalised, personalized"),
    make_tag("Account & login", "Passwords, logging in and out, profiles, account sharing, household rules, 2FA.",
         "login, log in, logged out, logging in, sign in, password, passwords, profile, profiles, "
         "password sharing, account sharing, household, 2fa, two-factor"),
))

INDUSTRY_TAXONOMIES: dict[str, Taxonomy] = {
    "saas": DEFAULT_TAXONOMY, "ecommerce": ECOMMERCE_TAXONOMY, "media": MEDIA_TAXONOMY,
}
"""Each industry's default taxonomy, by the industry's wire name."""

DEFAULT_INDUSTRY = "saas"
TEMPLATE_PREFIX = "industry:"
"""Accounts of the default artifact that hold an industry's default heads; the store refuses the prefix."""
GENERAL_ACCOUNT = TEMPLATE_PREFIX + "general"
"""The training account of comments about other kinds of business (training/data/general): they
have no taxonomy, so they teach the sentiment heads alone."""


def template_account(industry: str) -> str:
    """The artifact account whose heads serve `industry`'s default taxonomy: the default account for
    `saas`, `industry:<name>` for the others."""
    if industry not in INDUSTRY_TAXONOMIES:
        raise ValueError(f"unknown industry {industry!r}; expected one of {sorted(INDUSTRY_TAXONOMIES)}")
    return DEFAULT_ACCOUNT if industry == DEFAULT_INDUSTRY else TEMPLATE_PREFIX + industry


def template_taxonomies() -> dict[str, Taxonomy]:
    """Every industry's default taxonomy by its template account."""
    return {template_account(industry): taxonomy for industry, taxonomy in INDUSTRY_TAXONOMIES.items()}
