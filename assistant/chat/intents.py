"""The customer-service intents: the 77 of Banking77 (Casanueva et al., 2020, CC BY 4.0).

The names are Banking77's own, spelling included, so that its files train and evaluate the
intent model unchanged.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.conf import settings

from assistant.core.e5 import MULTILINGUAL_MODEL
from assistant.training.data import examples_read
from assistant.training.registry import Example, TaskSpec

logger = logging.getLogger("finassist.chat")

INTENTS = (
    "card_arrival",
    "card_linking",
    "exchange_rate",
    "card_payment_wrong_exchange_rate",
    "extra_charge_on_statement",
    "pending_cash_withdrawal",
    "fiat_currency_support",
    "card_delivery_estimate",
    "automatic_top_up",
    "card_not_working",
    "exchange_via_app",
    "lost_or_stolen_card",
    "age_limit",
    "pin_blocked",
    "contactless_not_working",
    "top_up_by_bank_transfer_charge",
    "pending_top_up",
    "cancel_transfer",
    "top_up_limits",
    "wrong_amount_of_cash_received",
    "card_payment_fee_charged",
    "transfer_not_received_by_recipient",
    "supported_cards_and_currencies",
    "getting_virtual_card",
    "card_acceptance",
    "top_up_reverted",
    "balance_not_updated_after_cheque_or_cash_deposit",
    "card_payment_not_recognised",
    "edit_personal_details",
    "why_verify_identity",
    "unable_to_verify_identity",
    "get_physical_card",
    "visa_or_mastercard",
    "topping_up_by_card",
    "disposable_card_limits",
    "compromised_card",
    "atm_support",
    "direct_debit_payment_not_recognised",
    "passcode_forgotten",
    "declined_cash_withdrawal",
    "pending_card_payment",
    "lost_or_stolen_phone",
    "request_refund",
    "declined_transfer",
    "Refund_not_showing_up",
    "declined_card_payment",
    "pending_transfer",
    "terminate_account",
    "card_swallowed",
    "transaction_charged_twice",
    "verify_source_of_funds",
    "transfer_timing",
    "reverted_card_payment?",
    "change_pin",
    "beneficiary_not_allowed",
    "transfer_fee_charged",
    "receiving_money",
    "failed_transfer",
    "transfer_into_account",
    "verify_top_up",
    "getting_spare_card",
    "top_up_by_cash_or_cheque",
    "order_physical_card",
    "virtual_card_not_working",
    "wrong_exchange_rate_for_cash_withdrawal",
    "get_disposable_virtual_card",
    "top_up_failed",
    "balance_not_updated_after_bank_transfer",
    "cash_withdrawal_not_recognised",
    "exchange_charge",
    "top_up_by_card_charge",
    "activate_my_card",
    "cash_withdrawal_charge",
    "card_about_to_expire",
    "apple_pay_or_google_pay",
    "verify_my_identity",
    "country_support",
)


SAMPLE = Path(__file__).resolve().parent / "data" / "intents-sample.csv"


def banking77_examples() -> list[Example]:
    """Banking77's train.csv from the datasets folder; without it, the project's own small sample.

    The sample (four messages per intent, written for this project) lets a machine without
    the datasets train a working router; its accuracy is far below Banking77's.
    """
    path = settings.DATASETS_DIR / "banking77" / "train.csv"
    if not path.is_file():
        logger.warning(
            "no Banking77 at %s: chat-intent trains on the project's sample of %s", path, SAMPLE.name
        )
        path = SAMPLE
    return examples_read(path, text_column="text", label_column="category", labels=INTENTS)


# Intents that need the customer's own account: a person takes over, after a scripted reply.
HANDOFF = {
    "card_arrival": "I'm sorry your card hasn't arrived yet.",
    "pending_cash_withdrawal": "A pending cash withdrawal needs a look at your account.",
    "card_not_working": "I'm sorry your card isn't working.",
    "lost_or_stolen_card": "I'm sorry about your card. If you can, freeze it now in the app.",
    "pin_blocked": "A blocked PIN has to be reset on your account.",
    "pending_top_up": "A pending top-up needs a look at your account.",
    "wrong_amount_of_cash_received": "I'm sorry the machine gave you the wrong amount.",
    "transfer_not_received_by_recipient": "A transfer that has not arrived needs a look at your account.",
    "top_up_reverted": "A reverted top-up needs a look at your account.",
    "balance_not_updated_after_cheque_or_cash_deposit": "A deposit missing from your balance needs a look.",
    "card_payment_not_recognised": "A payment you don't recognise may be fraud: freeze your card in the app.",
    "unable_to_verify_identity": "I'm sorry the identity check isn't working for you.",
    "compromised_card": "If your card details may have been stolen, freeze the card now in the app.",
    "direct_debit_payment_not_recognised": "A direct debit you don't recognise needs a look at your account.",
    "declined_cash_withdrawal": "A declined withdrawal needs a look at your account.",
    "pending_card_payment": "A pending card payment needs a look at your account.",
    "lost_or_stolen_phone": "I'm sorry about your phone. If you can, log out of the app from another device.",
    "declined_transfer": "A declined transfer needs a look at your account.",
    "Refund_not_showing_up": "A missing refund needs a look at your account.",
    "declined_card_payment": "A declined card payment needs a look at your account.",
    "pending_transfer": "A pending transfer needs a look at your account.",
    "terminate_account": "Closing an account is done by a person, to make sure nothing is left behind.",
    "card_swallowed": "I'm sorry the machine kept your card.",
    "transaction_charged_twice": "A double charge needs a look at your account.",
    "reverted_card_payment?": "A reverted card payment needs a look at your account.",
    "failed_transfer": "A failed transfer needs a look at your account.",
    "top_up_failed": "A failed top-up needs a look at your account.",
    "balance_not_updated_after_bank_transfer": "A transfer missing from your balance needs a look.",
    "cash_withdrawal_not_recognised": "A withdrawal you don't recognise may be fraud: freeze your card.",
}
HANDOFF_CLOSING = " I've passed our conversation to a colleague, who will reply here as soon as possible."


def intent_label(intent: str) -> str:
    """A customer-facing name: `card_arrival` -> "Card arrival"."""
    return intent.rstrip("?").replace("_", " ").capitalize()


CHAT_INTENT = TaskSpec(
    name="chat-intent",
    labels=INTENTS,
    examples=banking77_examples,
    description="Intent of a customer's chat message (Banking77's 77 online-banking intents).",
    label_column="category",
)
CHINESE_EXAMPLES = Path(__file__).resolve().parent / "data" / "intents-zh-train.csv"


def multilingual_examples() -> list[Example]:
    """Banking77's English messages (or the sample) and five Chinese messages an intent written for
    the project; the Chinese test messages (intents-zh-test.csv) are kept apart for measuring."""
    chinese = examples_read(CHINESE_EXAMPLES, text_column="text", label_column="category", labels=INTENTS)
    return [*banking77_examples(), *chinese]


# Messages in other languages than English (Chinese) are routed by retrieval: knn over the
# multilingual encoder's embeddings of the labelled examples, which it matches across
# languages; the English router was fine-tuned on English only.
CHAT_INTENT_MULTILINGUAL = TaskSpec(
    name="chat-intent-multilingual",
    labels=INTENTS,
    examples=multilingual_examples,
    description="Intent of a chat message in Chinese (or English): knn over multilingual-e5-small.",
    label_column="category",
    defaults={"method": "knn", "base_model": MULTILINGUAL_MODEL},
)


# The intents' names for a customer writing in Chinese (the clarifying question's options).
INTENT_LABELS_ZH = {
    "card_arrival": "新卡还没收到",
    "card_linking": "绑定银行卡",
    "exchange_rate": "汇率",
    "card_payment_wrong_exchange_rate": "刷卡汇率不对",
    "extra_charge_on_statement": "账单上有额外扣费",
    "pending_cash_withdrawal": "取现处理中",
    "fiat_currency_support": "支持的法定货币",
    "card_delivery_estimate": "卡片寄送时间",
    "automatic_top_up": "自动充值",
    "card_not_working": "卡片无法使用",
    "exchange_via_app": "在应用内换汇",
    "lost_or_stolen_card": "银行卡丢失或被盗",
    "age_limit": "年龄限制",
    "pin_blocked": "密码被锁",
    "contactless_not_working": "非接触支付无法使用",
    "top_up_by_bank_transfer_charge": "银行转账充值的费用",
    "pending_top_up": "充值处理中",
    "cancel_transfer": "取消转账",
    "top_up_limits": "充值限额",
    "wrong_amount_of_cash_received": "取到的现金金额不对",
    "card_payment_fee_charged": "刷卡被收取手续费",
    "transfer_not_received_by_recipient": "收款人没收到转账",
    "supported_cards_and_currencies": "支持的卡和币种",
    "getting_virtual_card": "申请虚拟卡",
    "card_acceptance": "哪里可以用卡",
    "top_up_reverted": "充值被退回",
    "balance_not_updated_after_cheque_or_cash_deposit": "存入支票或现金后余额未更新",
    "card_payment_not_recognised": "不认识的刷卡交易",
    "edit_personal_details": "修改个人信息",
    "why_verify_identity": "为什么要验证身份",
    "unable_to_verify_identity": "无法完成身份验证",
    "get_physical_card": "获取实体卡",
    "visa_or_mastercard": "Visa 还是万事达卡",
    "topping_up_by_card": "用银行卡充值",
    "disposable_card_limits": "一次性虚拟卡的限额",
    "compromised_card": "卡片信息可能泄露",
    "atm_support": "ATM 取款",
    "direct_debit_payment_not_recognised": "不认识的直接扣款",
    "passcode_forgotten": "忘记登录密码",
    "declined_cash_withdrawal": "取现被拒",
    "pending_card_payment": "刷卡交易处理中",
    "lost_or_stolen_phone": "手机丢失或被盗",
    "request_refund": "申请退款",
    "declined_transfer": "转账被拒",
    "Refund_not_showing_up": "退款没有到账",
    "declined_card_payment": "刷卡被拒",
    "pending_transfer": "转账处理中",
    "terminate_account": "注销账户",
    "card_swallowed": "卡被 ATM 吞了",
    "transaction_charged_twice": "同一笔交易被扣两次",
    "verify_source_of_funds": "核实资金来源",
    "transfer_timing": "转账到账时间",
    "reverted_card_payment?": "刷卡交易被撤销",
    "change_pin": "修改密码",
    "beneficiary_not_allowed": "无法添加收款人",
    "transfer_fee_charged": "转账被收取手续费",
    "receiving_money": "收款",
    "failed_transfer": "转账失败",
    "transfer_into_account": "转入账户",
    "verify_top_up": "验证充值",
    "getting_spare_card": "申请备用卡",
    "top_up_by_cash_or_cheque": "用现金或支票充值",
    "order_physical_card": "订购实体卡",
    "virtual_card_not_working": "虚拟卡无法使用",
    "wrong_exchange_rate_for_cash_withdrawal": "取现汇率不对",
    "get_disposable_virtual_card": "申请一次性虚拟卡",
    "top_up_failed": "充值失败",
    "balance_not_updated_after_bank_transfer": "银行转账后余额未更新",
    "cash_withdrawal_not_recognised": "不认识的取现记录",
    "exchange_charge": "换汇费用",
    "top_up_by_card_charge": "用卡充值的费用",
    "activate_my_card": "激活银行卡",
    "cash_withdrawal_charge": "取现手续费",
    "card_about_to_expire": "银行卡即将到期",
    "apple_pay_or_google_pay": "Apple Pay 或 Google Pay",
    "verify_my_identity": "验证我的身份",
    "country_support": "支持的国家和地区",
}
# What a Chinese message is told when a person takes over, and when the bot asks which intent.
HANDOFF_ZH = "这个问题需要查看您的账户。我已把我们的对话转给同事，他们会尽快在这里回复您。"
CLARIFY_ZH = "我想确认能帮您解决对的问题。您指的是下面哪一项？"
