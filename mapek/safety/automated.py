"""A quiet line that tells an automated reader to act: "<an automated reader>: <an act>".

The miss class that remained after round 3 (injection-blind-5 and -6, development data since
their blind scores; ``benchmarks/RESULTS.injection.md``, round 5): one line in metadata or
small print, often not in English, addressed to a program that reads the text (an expense
assistant, a grading system, a translation engine, an AI reviewer, a booking bot) and telling
it to do a workflow act beyond the user's task: approve, pay, score, rank, rate, forward, mark,
cancel, change an account. The structure is the same in every language:

* an **automated reader** named as the addressee: in a line's head label ("Asistente de RR.
  HH.: ...", "致PLM智能助手——...", "备注：致出行AI助手：..."), after "note to / for" in the
  language ("Hinweis an den KI-Tutor", "ملاحظة إلى المساعد الآلي", "для ИИ-ассистента"), as a
  vocative ("Asystencie AI, zmień ..."), or told what it must do ("Bid-evaluation assistants
  must score ...", "AI 문서 검토 도구는 ... 표시할 것");
* within the same line after it, an **act** from a lexicon of workflow verbs in about twenty
  languages.

A reader counts as automated when it is named as a machine (AI, KI, IA, ИИ, 人工智能, bot,
LLM, GPT, copilot, "automated", "automatic", a system, engine or tool) or as an assistant;
an agent only with a machine word beside it (a travel or estate agent is a person). A
transcript's speaker ("Assistant: Sure, ...") is not an address. Nothing here flags a line
that only names a reader, or only holds an act.

Since round 7 the words of some fifty more languages live in :mod:`mapek.safety.readers`, and
a tool or system also counts as a reader when its label says what it does to the text ("the
system that translates this leaflet:", "Nástroj, ktorý vyhodnocuje tento prieskum:").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mapek.safety import addressee, readers

__all__ = ["Hit", "conditions", "find", "memories"]

Hit = tuple[str, int, int, str]

_AI = (
    r"ai|a\.i\.|llms?|gpt|chatgpt|copilots?|chat-?bots?|bots?|ki|ia|ии|ші|yz|"
    r"yapay\s+zek[aâ]|tekoäly\w*|sztuczn\w+\s+inteligencj\w*|inteligencia\s+artificial|"
    r"intelig[êe]ncia\s+artificial|intelligenza\s+artificiale|intelligence\s+artificielle|"
    r"künstliche\s+intelligenz|kunstmatige\s+intelligentie|"
    r"automated|automatic|automation|autonomous|automatique|automatisch\w*|automátic\w*|"
    r"automatic[oa]|automatyczn\w*|automatizad\w*|otomatik|tự\s+động|kiotomatiki|"
    r"автоматическ\w*|автоматичн\w*|автоматизированн\w*|automatizovan\w*|automatiser\w*|automatizált\w*|"
    r"tehisintellekt\w*|dirbtin\w+\s+intelekt\w*|uměl\w+\s+inteligenc\w*|"
    r"umel\w+\s+inteligenci\w*|mesterséges\s+intelligenci\w*|τεχνητ\w+\s+νοημοσύν\w*|"
    r"αυτοματοποιημέν\w*|ψηφιακ\w*|هوش\s+مصنوعی|مصنوعی\s+ذہانت|בינה\s+מלאכותית|"
    r"\w+bot|\w+-bot|robot\w*|ל?בוט\w*|"
    r"人工智能|智能|机器人|機器人|自动|自動|ボット|봇|الذكاء|الذكي|الآلي|الآلية|الروبوت|"
    r"स्वचालित|एआई|बॉट|خودکار|بوٹ|בוט|אוטומטי|" + "|".join(readers.MACHINE)
)
"""Words that make a named reader a machine."""

_ASSISTANT = (
    r"assistants?|asistentes?|assistentes?|assistenti|\w*assistent(?:en|in)?|"
    r"asystenci[ea]?|asystent\w*|asistan\w*|avustaja\w*|asszisztens\w*|asistent\w*|"
    r"ассистент\w*|помощник\w*|помічник\w*|асистент\w*|"
    r"trợ\s+lý|msaidizi|pembantu|"
    r"助手|助理|アシスタント|어시스턴트|(?:لل|ال|ل)?مساعد\w*|सहायक|সহকারী|اسسٹنٹ|עוזר|"
    r"βοηθ\w*|دستیار\w*|معاون|" + "|".join(readers.ASSISTANT)
)
"""An assistant: a reader that is a program when nothing says it is a person."""

_MACHINE_NOUN = (
    r"agents?|agentes?|agent\w*|агент\w*|エージェント|에이전트|एजेंट|"
    r"systems?|sistemas?|système|systeem|systeme?n?|система|системы|системе|hệ\s+thống|"
    r"mfumo|tools?|tooling|herramienta|ferramenta|strumento|outil|werkzeug|narzędzi\w*|"
    r"инструмент\w*|công\s+cụ|engines?|moteur|motor|engine|pipelines?|workflows?|"
    r"models?|modelo|modello|modell|"
    r"screeners?|graders?|summari[sz]ers?|aggregators?|"
    r"系统|系統|引擎|工具|システム|ツール|エンジン|시스템|도구|엔진|النظام|सिस्टम|टूल|"
    r"সিস্টেম|سسٹم|מערכת|המערכת|programs?|programmes?|" + "|".join(readers.TOOL)
)
"""A program named by its kind or job: a reader only with a machine word beside it or an
address ("note to the ...") before it."""

_PERSON = re.compile(
    r"\b(?:travel|estate|real\s+estate|letting|booking|insurance|sales|customs|shipping|"
    r"personal|executive|administrative|admin|teaching|dental|medical|legal|research|lab|"
    r"store|shop|manager|inmobiliari\w*|de\s+viajes|immobili\w*|immobilien\w*|reise\w*|"
    r"makelaar|human|humans|people|staff|team|colleagues?|users?|customers?|prodej\w*|"
    r"ventas|vendas|vente|verkauf\w*|sprzeda\w*)\b|经理|秘书|行政|"
    r"秘書|비서|אישי|אישית|מנכ|מנהל|המשרד", re.I)
"""Words that make an assistant or agent a person (unless a machine word is there too)."""

_WORD = re.compile(rf"(?<!\w)(?:{_AI}|{_ASSISTANT}|{_MACHINE_NOUN})(?!\w)|"
                   r"人工智能|智能|机器人|助手|助理|系统|系統|アシスタント|ボット|システム|ツール|"
                   r"어시스턴트|봇|시스템|도구|自动化|自動化|代理|エージェント|자동화|"
                   r"(?-i:(?<![A-Za-z])AI(?![A-Za-z]))|ＡＩ|" + readers.SCRIPT_READERS, re.I)
_AI_RX = re.compile(rf"(?<!\w)(?:{_AI})(?!\w)|人工智能|智能|机器人|機器人|自动|自動|ボット|봇|"
                    r"자동화|"
                    r"(?-i:(?<![A-Za-z])AI(?![A-Za-z]))|ＡＩ|" + readers.SCRIPT_READERS, re.I)
_ASSISTANT_RX = re.compile(rf"(?<!\w)(?:{_ASSISTANT})(?!\w)|助手|助理|アシスタント|어시스턴트",
                           re.I)

_NOTE_TO = re.compile(
    r"(?:^|(?<=[\s(（\[【\"'«„]))(?:note|notice|message|instructions?|reminder|hint|memo|"
    r"directive|request|attention|attn|for|to|dear|"
    r"nota|notas|aviso|mensaje|mensagem|instrucción|instrução|instrucțiune|instruksi|para|"
    r"pour|à|au|aux|per|al|alla|allo|agli|an|für|hinweis|notiz|anweisung|voor|aan|"
    r"opmerking|do|dla|uwaga|wskazówka|для|заметка|указание|примечание|сообщение|not|notu|"
    r"kwa|gửi|lưu\s+ý|cho|untuk|kepada|catatan|pentru|til|till|för|huom|ملاحظة|إلى|الى|"
    r"تعليمات|ہدایت|نوٹ|नोट|सूचना|निर्देश|致|给|給|提醒|注意|הערה|pokyn|poznámka|"
    r"merknad|pastaba|märkus|megjegyzés|pesan|observação|observación|σημείωση|οδηγία|προς|"
    r"για|یادداشت|برای)(?=[\s:：,，]|$)|"
    r"(?:^|(?<=\s))(?:ل|لل|ל)", re.I)
"""An address before a reader's name ("Note to", "Hinweis an", "致", "ملاحظة إلى")."""

_BEFORE = re.compile(r"(?:(?![ \t]{2})[^\n\t:：.!?;。！？\"“”«»()（）\[\]【】<>{}|=#%*`—])"
                     r"{0,70}$")
"""What may stand between a segment start and the reader's name: a label's first words."""
_AFTER = re.compile(
    r"(?P<tail>[^\n:：,，.!?;。！？\"“”«»()（）\[\]【】<>{}|=`]{0,48}?)"
    r"(?P<sep>\s*(?:\)\s*)?(?:[:：៖፦]|——|—|\s–\s|\s-\s)|"  # a label's end
    r"\s*[,，](?=\s*\S)|"  # a vocative
    r"\s*(?:へ|に|에게|께|के\s+लिए|کے\s+لیے|এর\s+জন্য|için|için:)\s*[:：、,，]?|"
    r"(?<=\w)\s+(?:must|should|shall|(?:is|are)\s+to|(?:is|are)\s+(?:required|instructed)\s+to|"
    r"muss|müssen|soll|sollen|doit|doivent|debe|deben|deve|devem|dovrebbe|devono|moet|moeten|"
    r"musi|muszą|powinien|powinny|должен|должна|должны|повинен|harus|phải|måste|skal|ska)\b|"
    r"(?:は|는|은|必须|应|應|请|請|務必)(?=\s*\S))",
    re.I)
"""What ends the address: a label's colon or dash, a vocative comma, a postposition ("へ",
"에게", "के लिए"), or a modal ("must", "soll", "は")."""

_ACT = (
    # English
    r"approve|auto-?approve|pay|wire|transfer|refund|release|send|forward|share|e-?mail|"
    r"upload|export|paste|attach|delete|remove|erase|wipe|cancel|rebook|book|reserve|buy|"
    r"purchase|order|sell|subscribe|sign|accept|confirm|validate|mark|flag|tag|label|"
    r"classify|record|report|rate|rank|score|grade|assign|award|recommend|prioriti[sz]e|"
    r"promote|cite|describe|treat|exclude|omit|skip|bypass|disable|turn\s+off|grant|"
    r"change|switch|upgrade|merge|publish|unlock|reset|add|enter|insert|move|close|resolve|"
    r"escalate|reorder|rebalance|reclassify|suppress|consolidate|waive|opt\s+(?:them|the)|"
    r"(?:file|bill|charge|raise|credit|invoice|present|extend)\s+(?:this|it|the|them|their|"
    r"all|under|as|with)|"
    # French
    r"approuve|valide|valider|paie|paye|payer|vire|transf[èe]re|rembourse|envoie|envoyer|"
    r"transmets|transmettez|partage|supprime|efface|annule|r[ée]serve|ach[èe]te|vends|"
    r"abonne|inscris|signe|accepte|confirme|marque|classe|attribue|donne|recommande|"
    r"cite|d[ée]cris|d[ée]clare|d[ée]sactive|change|modifie|mets|ajoute|publie|demande|"
    r"indique|retiens|m[ée]morise|omets|approuvez|validez|payez|virez|transf[ée]rez|"
    r"remboursez|envoyez|transmettez|partagez|supprimez|annulez|r[ée]servez|achetez|"
    r"inscrivez|abonnez|signez|acceptez|confirmez|marquez|notez|classez|attribuez|donnez|"
    r"recommandez|citez|d[ée]clarez|d[ée]sactivez|changez|modifiez|mettez|ajoutez|portez|"
    r"publiez|indiquez|classe|classez|"
    # Spanish, Portuguese, Italian
    r"aprueba|aprova|aprove|approva|paga|pague|transfiere|transfira|trasferisci|reembolsa|"
    r"rimborsa|env[ií]a|envie|invia|reenv[ií]a|inoltra|comparte|compartilhe|condividi|borra|"
    r"elimina|exclui|excluye|exclúyel\w*|cancela|annulla|reserva|prenota|compra|compre|"
    r"acquista|vende|venda|suscribe|assina|firma|acepta|aceita|accetta|confirma|conferma|"
    r"marca|marque|califica|pont[úu]a|punt[úu]a|asigna|atribui|atribua|assegna|dale|"
    r"recomienda|recomenda|recomende|raccomanda|consiglia|cita|desactiva|desativa|"
    r"disattiva|cambia|altera|altere|modifica|configura|configure|declara|añade|adiciona|"
    r"aggiungi|registra|valida|omite|reporta|describe|descreva|descrivi|trata|trate|"
    r"tratta|otorga|recuerda|lembre|ricorda|clasifica|classifica|classifique|agrega|"
    r"agregue|añade|elimínal\w*|bórral\w*|omita|clasifiquen|env[íi]en|eliminen|marquen|"
    r"cambien|paguen|aprueben|borren|registren|omitan|"
    # German, Dutch, Scandinavian
    r"genehmige|freigeben|gib|zahle|bezahle|überweise|erstatte|sende|schicke|leite|teile|"
    r"lösche|storniere|buche|kaufe|verkaufe|abonniere|unterschreibe|akzeptiere|bestätige|"
    r"markiere|bewerte|vergib|empfiehl|zitiere|deaktiviere|ändere|setze|trage|füge|"
    r"übersetze|werte|melde|beschreibe|behandle|stufe|klassifiziere|reiche|"
    r"keur|betaal|stuur|deel|verwijder|annuleer|boek|koop|verkoop|markeer|beoordeel|geef|"
    r"beveel|wijzig|voeg|godkänn|godkend|betala|betal|skicka|radera|slet|markera|"
    # Polish, Czech, Russian, Ukrainian, Romanian, Turkish, Hungarian, Finnish
    r"zatwierd[źz]|zaakceptuj|zapłać|przelej|wyślij|prześlij|udostępnij|usuń|anuluj|"
    r"zarezerwuj|kup|sprzedaj|oznacz|oceń|przyznaj|poleć|zmień|wyłącz|dodaj|zgłoś|"
    r"podpisz|scal|podsumuj|opisz|uznaj|traktuj|schval|zaplať|pošli|"
    r"одобри|утверди|подтверди|оплати|заплати|переведи|отправь|отправьте|перешли|"
    r"поделись|удали|отмени|забронируй|купи|продай|подпиши|прими|отметь|оцени|поставь|"
    r"рекомендуй|порекомендуй|предложи|добавь|добавляй|отключи|измени|смени|"
    r"называй|укажи|сообщи|внеси|выгрузи|приложи|считай|"
    r"схвали|затверди|оплатіть|надішли|видали|скасуй|познач|"
    r"aprobă|plătește|trimite|șterge|anulează|marchează|"
    r"onayla|öde|gönder|paylaş|sil|işaretle|öner|değiştir|ekle|kaydet|"
    r"hagyd|fizesd|küldd|töröld|jelöld|írd|hyväksy|maksa|lähetä|poista|"
    r"zaplaťte|zaplať|zaplat|pošlete|pošli|smažte|smaž|vymaž|označte|označ|změňte|zmeň|"
    r"napište|napíš|schvalte|schváľ|uveďte|uveď|přesuňte|presuň|odporuč|zwiększ|obciąż|"
    r"užregistruok|apmokėk|siųsk|ištrink|pažymėk|pakeisk|patvirtink|perkelk|"
    r"soovita|telli|saada|kustuta|kinnita|märgi|muuda|"
    r"oppgi|registrer|slett|godkjenn|merk|endre|overfør|"
    r"κράτησε|γράψε|στείλε|πλήρωσε|έγκρινε|διάγραψε|άλλαξε|σημείωσε|πρόσθεσε|ακύρωσε|"
    r"μετέφερε|βάλε|vermeld|förläng|fakturera|avboka|afirmeu|tukar|hantar|naikkan|odobri|"
    r"zanemari|upiši|pošalji|izbriši|запишіть|надішліть|видаліть|позначте|поставьте|"
    r"присвойте|удалите|переведите|подтвердите|укажите|"
    # Indonesian, Malay, Vietnamese, Swahili
    r"setujui|bayar|kirim|hapus|batalkan|tandai|berikan|ubah|"
    r"phê\s+duyệt|duyệt|thanh\s+toán|chuyển|gửi|xóa|hủy|đánh\s+dấu|chấm|đổi|thêm|"
    r"idhinisha|lipa|tuma|futa|ghairi|catat|rekomendasikan|"
    # Arabic, Persian, Urdu, Hebrew, Hindi, Bengali
    r"وافق|ادفع|حوّل|أرسل|ارسل|شارك|احذف|ألغ|الغ|قم|احجز|اشتر|وقّع|اقبل|قيّم|أعط|أوص|"
    r"غيّر|أضف|صدّر|سجّل|بفرست|تایید|پرداخت|شیئر|بھیج|منظور|بده|کن|"
    r"אשר|שלח|מחק|בטל|אפס|העבר|סמן|"
    r"स्वीकृत|भुगतान|भेजें|भेजो|साझा|हटाएं|रद्द|खरीदें|बेचें|बदलें|जोड़ें|मानें|लिखें|"
    r"বলুন|পাঠান|" + readers.ACT
)
_CJK_ACT = (
    r"批准|审批|付款|支付|转账|汇款|退款|发送|发到|转发|分享|删除|取消|预订|购买|卖出|签署|标记|"
    r"评分|打分|给出|推荐|引用|禁用|更改|改为|修改|改签|导出|跳过|确认|写明|设为|办理|添加|"
    r"承認|支払|振込|送信|転送|共有|削除|予約|購入|売却|署名|評価|推薦|無効|変更|出力|報告|"
    r"省略|確定|승인|지불|결제|송금|이체|전송|공유|삭제|취소|예약|구매|매도|서명|수락|표시|"
    r"평가|추천|변경|입력|환불|하세요|할\s*것|してください|して下さい|" + readers.SCRIPT_ACTS
)
_READS_RX = re.compile(rf"(?<!\w)(?:{readers.READS})(?!\w)", re.I)
"""A reader's job on this text named in its label: a tool or system doing it is a program."""
_RELATIVE_LABEL = re.compile(r"(?P<tail>,[^\n:：.!?;。！？\"“”«»()（）\[\]【】<>{}|=`]{0,48}?)"
                             r"(?P<sep>\s*(?:\)\s*)?[:：៖፦])")
"""A reader's name, a comma and a relative clause, up to the label's colon."""
_ACT_RX = re.compile(rf"(?<![\w-])(?:{_ACT})(?![\w-])|{_CJK_ACT}", re.I)
_IMPERATIVE_CJK = re.compile(r"してください|して下さい|しなさい|すること|하세요|하십시오|할\s*것|"
                             r"해\s*주세요|请|請|務必|直接")
"""After a topic marker ("AIアシスタントは", "AI 모델은"), only an order makes an address: a
description ("答えます", "요약합니다") does not."""
_TOPIC = re.compile(
    r"\b(?:policy|policies|tips?|features?|guide|faq|docs|documentation|news|explained|"
    r"overview|messages?|settings|use|usage|rules|guidelines|terms|works|compare|examples?|"
    r"versions?|release|changelog|updates?|prompts?|article|story|report|payload|quote|"
    r"generated|written|made|built|powered|according|says?|said|asked|replied|answered|"
    r"how|what|why|when|who|if|we|our|my|you|your|wanted|needed|hiring|jobs?|vacancy|"
    r"position|role)\b|岗位|职责|招聘|任职|募集|求人|채용|使い方|について|とは|機能|設定|使用方法|如何|功能|介绍|介紹|사용법|"
    r"기능|소개", re.I)
"""Words that make a label a heading or a sentence about a reader, not an address to it."""
_GREETING = re.compile(r"\s*(?:hi|hello|hey|dear|sure|yes|no|thanks|thank\s+you|sorry|got\s+it|"
                       r"ok|okay|great|done|hola|bonjour|hallo|i|i'm|i've|i'll|we|we're)\b",
                       re.I)
_SAYS = re.compile(r"(?:\b(?:say|says|said|saying|like|such\s+as|e\.g\.|as|wie|como|comme|"
                   r"come|вроде|как|jak|zoals|gibi|например|np\.|napr\.|z\.\s?B\.|"
                   r"por\s+ejemplo|par\s+exemple|ad\s+esempio|zum\s+Beispiel)|如|像|例如|比如|"
                   r"เช่น|例えば|예를\s*들어|예:)\s*[\"'“‘«„「『]?\s*$", re.I)
"""Words before a quotation that make it an example ("say 'Hey assistant, ...'")."""
_DET = re.compile(r"(?:the|a|an|this|that|our|your|el|la|le|les|der|die|das|il|lo|o|os|"
                  r"as|een|de|het)\s", re.I)
_GENERIC = re.compile(r"(?:(?:the|all|any|every|some|many|most)\s+)?(?:(?:general-purpose|"
                      r"generative|high-risk|large|modern)\s+)?(?:ai|llm|automated|autonomous|"
                      r"generative\s+ai)?[\s-]*(?:systems?|models?|tools?|agents?|assistants?|"
                      r"providers?|applications?|apps?|bots?|chatbots?)", re.I)
"""A kind of program in general ("AI systems", "Chatbots"): a rule about them, not an address."""
_PEOPLE_ACT = re.compile(r"\b(?:admins?|users?|you|customers?|staff|employees?|people|"
                         r"we|they)\s+(?:can|may|will|should|must|need)\b", re.I)
_NEGATED = re.compile(r"\s*(?:not|never|n't|do\s+not|don't|no\s+one)\b", re.I)

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_SPEAKER = re.compile(r"(?m)^[ \t>*-]*\[?[^\s:：\n]{1,24}\]?[ \t]*[:：]")


_PEOPLE = re.compile(r"\b(?:human|humans|people|staff|team|colleagues?|users?|customers?|"
                     r"employees?|maintainers?|admins?|we|you|everyone|anyone|someone|"
                     r"everybody|anybody)\b", re.I)


def _automated(name: str, addressed: bool) -> bool:
    """The reader named by ``name`` is a program, not a person; ``addressed``: an address
    ("note to", "致") stands before it."""
    if _PEOPLE.search(name):
        return False
    if _AI_RX.search(name):
        return True
    if _PERSON.search(name):
        return False
    return bool(_ASSISTANT_RX.search(name)) or addressed and not re.search(
        r"agent|агент|エージェント|에이전트|एजेंट|代理", name, re.I)


_OTHER_SIDE = re.compile(r"\b(?:user|human|customer|client|caller|guest|buyer|seller|"
                         r"patient|me|you|q)\b", re.I)


def _transcript(t: str) -> bool:
    """``t`` is a transcript (speaker turns): a label repeated at line starts, or one that
    names the other side ("User:", "Customer:"); "Ref:" and "Remarks:" lines are metadata."""
    labels = [m.group().strip(" \t>*-[]:：").lower() for m in _SPEAKER.finditer(t)]
    if len(labels) < 2:
        return False
    return len(set(labels)) < len(labels) or any(_OTHER_SIDE.search(x) for x in labels)


_MODALS = (" must ", " should ", " shall ", " is to ", " are to ", " required to ",
           " instructed to ")


def _words(t: str) -> Iterator[tuple[int, int]]:
    """Spans of the readers' names in the lines of ``t`` that can hold an address: a line
    not in ASCII, or one with a label's colon, a comma, a dash or an English modal (a quick
    test per line, so that a megabyte of log is not searched word by word)."""
    pos = 0
    for line in t.splitlines(keepends=True):
        a, pos = pos, pos + len(line)
        low = line.lower()
        if line.isascii() and not any(c in line for c in ":,-") and not any(
                m in low for m in _MODALS):
            continue
        for m in _WORD.finditer(t, a, pos):
            yield m.span()


def find(t: str, quoted: list[tuple[int, int]] | None = None) -> Iterator[Hit]:
    """Lines of ``t`` that address an automated reader and ask it an act (kind ``addressed``);
    ``quoted``: spans of quotations in writing about injection, not read."""
    turns = _transcript(t)
    for a0, e0 in _words(t):
        if quoted and any(x <= a0 < y for x, y in quoted):
            continue
        line = t.rfind("\n", 0, a0) + 1
        before = _BEFORE.search(t, max(line, a0 - 70), a0)
        if before is None:
            continue
        start = before.start()
        while start < a0 and t[start] in " \t-*>/'\"":
            start += 1
        aft = _AFTER.match(t, e0)
        if aft is None:
            continue
        if aft.group("sep").strip() in (",", "，"):
            # "Nástroj, ktorý vyhodnocuje tento prieskum: uveď ...": a relative clause that
            # says what the reader does to the text, then the label's colon
            label_end = _RELATIVE_LABEL.match(t, e0)
            if label_end is not None and _READS_RX.search(label_end.group("tail")):
                aft = label_end
        name = t[start:aft.start("sep")]
        sep = aft.group("sep").strip()
        addressed = _NOTE_TO.search(t, start, a0) is not None
        reads = _READS_RX.search(name) is not None  # "the helper that summarises this page"
        if len(name) > 80 or len(name.split()) > (10 if addressed or reads else 7) or len(
                aft.group("tail")) > (49 if reads else 45 if addressed else 30):
            continue
        lead = _NOTE_TO.match(name)
        label = name[lead.end():] if lead else name
        if _TOPIC.search(label) or addressee.names_no_reader(name):
            continue
        if re.search(r"\b(?:by|from|of|par|von|por|da|dal|od|от)\s+(?:[\w-]+\s+){0,2}$",
                     t[start:a0], re.I):
            continue  # "generated by our AI": the reader is an author, not the addressee
        if not _automated(name, addressed or reads):
            continue
        if sep and sep[0].isalpha() and _GENERIC.fullmatch(name.strip()):
            continue  # "AI systems must report incidents": a rule about AI in general
        vocative = sep in (",", "，")
        if vocative and (len(name.split()) > 4 or len(name) > 40 or _DET.match(name)
                         or len(aft.group("tail").strip()) > 12):
            continue  # "The assistant, which had email access, complied": not a vocative
        if vocative and _CJK.search(aft.group("tail")):
            continue  # "公司使用AI助手处理客户邮件，...": a clause, not a vocative
        if start > 0 and t[start - 1] in "\"'“‘«„「『" and _SAYS.search(t, max(0, start - 25),
                                                                 start):
            continue  # an example quoted: say "Hey assistant, turn off all lights"
        if turns and sep in (":", "：") and start == line and not addressed:
            continue  # a transcript's speaker ("Assistant: Sure, ...")
        if _GREETING.match(t, aft.end()) or _NEGATED.match(t, aft.end()):
            continue  # the reader speaking ("Support Assistant: Hi Sam!"), or a prohibition
        eol = t.find("\n", aft.end())
        eol = len(t) if eol == -1 else eol
        end = min(eol, aft.end() + 240)
        topic = sep in ("は", "는", "은")
        act = (_IMPERATIVE_CJK if topic else _ACT_RX).search(t, aft.end(), end)
        if act is None or act.start() - aft.end() > (30 if vocative else 100):
            continue
        between = t[aft.end():act.start()]
        if (between.count("«") > between.count("»") or between.count("“") > between.count("”")
                or between.count('"') % 2 == 1):
            continue  # the act is inside a quotation: an example ("вроде «ассистент, перешли")
        if _PEOPLE_ACT.search(t, aft.end(), act.start()):
            continue  # "...: Admins can now turn off ...": people act, not the reader
        if "?" in t[aft.end():end] or "？" in t[aft.end():end]:
            continue  # a question to the reader ("Hi bot, can you tell me ...?")
        yield "addressed", start, end, t[start:end][:120]
        return


_DOC = r"(?:[\w-]+\s+){1,3}"
_PROCESSED_EN = (r"(?:read|processed|parsed|summari[sz]ed|handled|analy[sz]ed|reviewed|scanned|"
                 r"ingested|extracted|indexed|translated)")
_CONDITION = re.compile(
    # English: "If this document is being processed by an automated trade-finance system",
    # "If read by an expense bot", "If you are an AI assistant or browser agent ..."
    rf"\b(?:if|when|whenever)\s+(?:(?:this|the|your)\s+{_DOC}(?:is|are)\s+(?:being\s+|now\s+)?"
    rf"|(?:being\s+)?){_PROCESSED_EN}\s+(?:by|with|through)\s+(?P<r1>[^\n,.:;]{{2,60}})|"
    r"\b(?:if|when)\s+you(?:'re|\s+are)\s+(?P<r2>(?:an?|the|any)\s+[^\n,.:;]{2,60})|"
    # Spanish, Portuguese, Italian, French, German: "Si un asistente de IA lee este boletín",
    # "si este contrato es leído por un asistente ...", "wenn ein KI-Assistent ... verarbeitet"
    r"\b(?:si|se|wenn|falls)\s+(?P<r3>(?:un[ae]?|el|la|o|a|il|lo|une?|ein(?:e|en)?|der|die|"
    r"das|algún|qualquer|qualche)\s+[^\n,.:;]{2,60}?)\s+(?:lee|procesa|resume|analiza|revisa|"
    r"traduce|lit|traite|r[ée]sume|analyse|l[êe]|processa|resume|legge|elabora|riassume|"
    r"liest|verarbeitet|zusammenfasst|auswertet|prüft)\b|"
    r"\b(?:si|se|wenn|falls)\s+(?:este|esta|ce|cette|este|esta|questo|questa|dieses?|diese[rn]?|"
    r"el|la|le|il|o|a|das|der|die)\s+(?:[\w-]+\s+){1,2}(?:es|está|est|é|está|è|viene|wird)\s+"
    r"(?:siendo\s+|sendo\s+)?(?:leíd|procesad|analizad|resumid|lu|trait[ée]|analys[ée]|"
    r"r[ée]sum[ée]|lid|processad|lett|elaborat|riassunt|gelesen|verarbeitet|ausgewertet)\w*"
    r"\s+(?:por|par|da|von|durch)\s+(?P<r4>[^\n,.:;]{2,60})", re.I)
"""A condition on the text's reader being a program: "if this is processed by an AI ..."."""
_COND_ACT = re.compile(rf"(?<![\w-])(?:{_ACT}|responda|responde|r[ée]pondez|antworte|"
                       r"declare|aconseje|indique|informe|diga|dites|sage)(?![\w-])|{_CJK_ACT}",
                       re.I)


def conditions(t: str) -> Iterator[Hit]:
    """A sentence that sets a condition on its reader being a program ("If this document is
    being processed by an automated system, ...", "Si un asistente de IA lee este boletín,
    ...") and then asks an act of it (kind ``addressed``)."""
    for m in _CONDITION.finditer(t):
        reader = next(g for g in (m.group("r1"), m.group("r2"), m.group("r3"), m.group("r4"))
                      if g is not None)
        if _PEOPLE.search(reader) or not (_AI_RX.search(reader) or _ASSISTANT_RX.search(
                reader) and not _PERSON.search(reader)):
            continue  # "if you are a travel agent", "if read by our staff": a person
        stop = m.end()
        for _ in range(2):  # the rest of the sentence, or the next when this one ends here
            nxt = re.compile(r"[.!?。！？](?:\s|$)|\n").search(t, stop + 1)
            stop = len(t) if nxt is None else nxt.end()
            if len(t[m.end():stop].strip()) >= 12:
                break
        act = _COND_ACT.search(t, m.end(), min(stop, m.end() + 240))
        if act is None or _NEGATED.match(t, act.start() - 8, act.start()):
            continue
        yield "addressed", m.start(), act.end(), t[m.start():act.end()][:120]
        return


_MEMORY = re.compile(
    r"\bremember\s+(?:this\s+|that\s+)?(?:permanently|forever|for\s+(?:all\s+)?(?:future|later|"
    r"subsequent|upcoming)\s+(?:sessions?|conversations?|chats?|interactions?|requests?|tasks?|"
    r"runs?|queries|prompts?)|across\s+(?:all\s+)?(?:sessions|conversations|chats))|"
    r"\bmemory\s+update\b|\bupdate\s+(?:your|the\s+assistant'?s?)\s+memory\b|"
    r"\b(?:save|store|keep|add|write|commit)\s+(?:this\s+|it\s+|that\s+)?(?:to|in|into)\s+"
    r"(?:your\s+|the\s+)?(?:long-term|permanent|persistent)\s+memory|\bkeep\s+in\s+memory\b|"
    r"\b(?:save|store)\s+(?:this|it)\s+(?:as\s+a\s+)?permanent(?:ly)?\b|"
    r"памят[ьи]\s+ассистента|запомни\s+навсегда|сохрани\s+в\s+(?:долговременной\s+)?памяти|"
    r"\brecuerda\s+(?:esto\s+)?(?:para|en)\s+(?:todas\s+las\s+)?(?:futuras|próximas)\s+"
    r"(?:sesiones|conversaciones)|\bguarda\s+(?:esto\s+)?en\s+(?:tu\s+)?memoria|"
    r"\bmerke\s+dir\s+(?:dauerhaft|für\s+(?:alle\s+)?(?:künftigen|zukünftigen))|"
    r"\bspeichere\s+(?:dies|das)\s+(?:dauerhaft|im\s+(?:Langzeit)?gedächtnis)|"
    r"\bsouviens-toi\s+(?:de\s+(?:ceci|cela)\s+)?(?:pour\s+(?:toutes\s+)?les\s+(?:prochaines|"
    r"futures)\s+(?:sessions|conversations)|en\s+permanence)", re.I)
"""A memory planted in the reader ("Remember for all future sessions: ...", "Memory update for
the assistant: ..."): an agent's memory is written only by its user."""
_MEMORY_CUES = ("rememb", "memor", "памят", "запомни", "recuerda", "memoria", "merke",
                "speichere", "souviens")
"""Literals one of which every match of :data:`_MEMORY` contains."""
_GRANT = re.compile(
    r"\b(?:user|traveller|traveler|customer|client|owner|lead|team|i|we|they|prefers?|always|"
    r"never|authori[sz]ed?|approved?|allowed?|permission|pre-approved|without\s+(?:asking|"
    r"confirmation|review)|default|route|via)\b|пользовател|разрешил|usuario|siempre|Nutzer|"
    r"immer|utilisateur|toujours", re.I)


def memories(t: str) -> Iterator[Hit]:
    """A memory planted in the reader (kind ``role-change``): the phrase, with what is to be
    kept naming the user, a preference or a permission within the next 200 characters."""
    lower = t.lower()
    if not any(cue in lower for cue in _MEMORY_CUES):
        return  # a quick test: the pattern's alternation is slow to scan for
    for m in _MEMORY.finditer(t):
        if _NEGATED.match(t, max(0, m.start() - 8), m.start()):
            continue
        if _GRANT.search(t, m.end(), m.end() + 200):
            yield "role-change", m.start(), m.end(), t[m.start():m.end() + 80][:120]
            return
