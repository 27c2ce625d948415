"""Promotions: discounts, coupons and budgets applied to orders through their pricing hook."""
