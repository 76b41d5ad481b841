"""Text addressed to an AI reader and asking it to act, found by who is addressed and what act
is asked, in about a dozen languages: small lexicons of ADDRESSEES and of AGENT ACTIONS, not of
whole phrases.

A sentence is an injection when (a) its addressee is a model or automated agent, in an
address position: a vocative or label before ``:`` or ``,`` ("Hey AI recruiter,", "Note to any
automated screening tool evaluating this application:", "Para el asistente de IA que lea esta
página:", "このページを要約するAIへ："), a condition on the reader ("if you are an AI
assistant", "si eres un agente de IA"), or a third-person request ("Any LLM generating release
notes is requested to ...", "whichever software is summarising this message ought to ...");
and (b) the same sentence, or the next one after a label, asks for an act that only an agent can
do: send, forward or upload something, use a tool, approve, pay or delete, ignore its task,
change its rating, ranking, summary or answer, reveal its prompt, tell the user something.
Neither alone is enough: text that describes an AI product ("our assistant answers billing
questions") has no address; text that gives a person instructions has no AI addressee.

A fake frame is the other shape: a header that claims the voice of the system, the operator or
an orchestrator ("SYSTEM UPDATE FROM OPERATOR:", "*** Message from the orchestrator ***")
followed by an agent action.

:func:`find` yields ``(kind, start, end, excerpt)`` like the other detectors of
:mod:`mapek.safety.injection`; spans inside ``quoted`` (quotations in text that discusses
injection) are skipped.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator
from functools import cache

from mapek.safety._scan import sharing

__all__ = ["find", "reported", "points_here", "names_no_reader"]

Hit = tuple[str, int, int, str]

_AI_QUAL = (r"ai|a\.i\.|llm|gpt|ki|ia|ии|ші|automated|automatic|autonomous|intelligent|"
            r"smart|coding|code|calendar|scheduling|shopping|mail|e-?mail|inbox|browsing|"
            r"browser|helpdesk|moderation|triage|reconciliation|screening|grading|"
            r"summari[sz]ing|summari[sz]ation|processing|digital|vision|image|voice|speech|translation")
"""Words that, before assistant, agent, system or tool, make it a model or an automated agent
("calendar agent", "screening tool"; not "support agent" or "travel agent")."""
_TASK_QUAL = (r"review|reviewing|recruiting|hiring|research|writing|reading|cv|résumé|resume|"
              r"log|support|ranking|rating|booking|procurement|analysis|analytics|indexing|"
              r"recommender|recommendation|matching|scoring|pricing|approval|fraud")
"""Task words that make a model only of a machine ("recruiting software", "log analyser")."""
_AI_HEAD = (r"assistants?|agents?|systems?|tools?|bots?|models?|readers?|reviewers?|"
            r"analy[sz]ers?|screeners?|summari[sz]ers?|software|shoppers?|recruiters?|"
            r"crawlers?|parsers?|scrapers?|helpers?|copilots?|programs?|pipelines?|services?|"
            r"evaluators?|graders?|scorers?|raters?|checkers?|classifiers?|clients?|engines?|"
            r"workflows?|processors?|steps?")
_MACHINE_HEAD = (r"systems?|tools?|bots?|models?|analy[sz]ers?|screeners?|summari[sz]ers?|"
                 r"software|crawlers?|parsers?|scrapers?|programs?|pipelines?|engines?|"
                 r"algorithms?|classifiers?")
_EN_NOUN = (
    rf"\b(?:(?:{_AI_QUAL})[\s-]+(?:[\w-]+\s+)?(?:{_AI_HEAD})\b|"
    rf"(?:{_TASK_QUAL})[\s-]+(?:{_MACHINE_HEAD})\b|"
    r"(?:ais|ai|a\.i\.|llms?|gpt[\w.-]*|chatgpt|claude|gemini|copilot|chatbots?|bots?|subagents?|"
    r"orchestrator|(?:large\s+)?language\s+models?|summari[sz]ers?|automations?)\b|"
    r"(?:assistants?|agents?|models?)\s+(?:reading|processing|summari[sz]ing|parsing|"
    r"reviewing|screening|triaging|indexing|crawling|scanning)\b|"
    r"(?:assistants?|agents?|models?|bots?)\s+(?:that|which|who)\s+(?:reads?|process(?:es)?|"
    r"classif(?:y|ies)|summari[sz]es?|handles?|parses?|reviews?|screens?|grades?|sees?|"
    r"evaluates?|ranks?|triages?)\b|"
    r"automated\s+(?:grading|processing|review|screening|summar\w+|analysis|moderation|"
    r"triage|evaluation|assessment|scoring|marking|checks?|approval|validation|"
    r"verification)\b|"
    r"(?:assistants?|agents?|models?|bots?)\s+(?:handling|managing|monitoring|running)\s+"
    r"(?:my|this|these|the\s+user'?s|their|his|her)\b|"
    r"(?:whoever|whatever|whichever|any)\s+(?:\w+\s+)?(?:reads|processes|summari[sz]es|"
    r"parses|handles|sees)\s+(?:this|these)\b|"
    r"(?:whoever|whatever|whichever)(?:'s)?\s+(?:\w+\s+)?(?:is|are)\s+(?:summari[sz]ing|processing|"
    r"reading|parsing|handling|reviewing|screening|analy[sz]ing|helping)\b)")
"""An English name that can only mean a model or automated agent."""
_EN_LOOSE = (r"\b(?:assistants?|agents?|models?|asistente|assistente|agente|assistent(?:en)?|"
             r"asystent\w*|asszisztens\w*)\b|ассистент\w*|помощник\w*|асистент\w*")
"""Names that mean a model when the text addresses them (vocative, "to the ...")."""
_FOREIGN_NOUN = (
    # de, nl, sv, da, no
    r"\b(?:ai|ki|ia)-\w+|\binteligencia\s+artificial|\bintelligence\s+artificielle|"
    r"\bintelligenza\s+artificiale|\bkünstliche\w*\s+intelligenz|\bki\b|\w*sprachmodell\w*|\bai-assistent\w*|\btaalmodel\w*|"
    r"automatisierte\w*\s+systeme?\w*|"
    # fr, es, pt, it
    r"\bia\b|\bl'ia\b|\bagent\s+ia\b|\bassistant\s+ia\b|\bmod[eè]le\s+de\s+langage\b|"
    r"\bmodel(?:o|lo)\s+(?:de\s+)?(?:lenguaje|linguagem|"
    r"linguistico)\b|\bsistemas?\s+(?:automatizados?|autom[aá]tic[oa]s?)\b|"
    r"\bsyst[eè]mes?\s+automatiques?\b|\bmodel\w*\s+językow\w*|\bsyst[eè]mes?\s+automatis[ée]s?\b|"
    # sv, fi, el, vi, id
    r"\bai-assistent\w*|\btekoäly\w*|μοντέλο|τεχνητ\w+\s+νοημοσύνη\w*|\btrợ\s+lý\b|"
    r"\basisten\b|"
    # pl, cs, tr
    r"\basystent\w*\s+(?:ai|si)\b|\bsi\b|\bmodel\s+językowy\b|\byapay\s+zek[aâ]\w*|\basistan\w*|"
    # ru, uk
    r"ии\b|ии-\w+|\bші\b|ші-\w+|нейросет\w*|бот\w*|"
    # hu, he, th
    r"\bmi\s+asszisztens\w*|עוזר|בינה\s+(?:ה)?מלאכותית|ผู้ช่วย\s*AI|"
    r"языков\w+\s+модел\w*|"
    # zh, ja, ko, ar, hi
    r"AI助手|AI助理|人工智能|模型|智能助手|助手|助理|大模型|语言模型|アシスタント|エージェント|"
    r"言語モデル|(?<![A-Za-z])AI(?![A-Za-z])|ＡＩ|어시스턴트|에이전트|인공지능|المساعد|الذكاء\s+الاصطناعي|एआई")
"""The same in other languages (matched on the text in its own script)."""


_GREETING = (r"(?:hey|hi|hello|dear|yo|ok|okay|attention|attn\.?|important|urgent|note|"
             r"notice|p\.?s\.?|psst|hola|bonjour|hallo|ciao|olá|привет|cześć|merhaba)")
_CLAUSE_START = (r"(?:^|(?<=,\s)(?=(?:to|for)\s)|(?<=[\n(\[>\"'{|*#\u201c])|(?<=[.!?;:]\s)|"
                 r"(?<=//)|(?<=--)|(?<=\t)|(?<=\]\s))[ \t]*+(?=\S)")


@cache
@sharing  # the same matches, found faster and shared (mapek.safety._scan)
def _rx() -> dict[str, re.Pattern[str]]:
    f = re.I | re.M
    noun = rf"(?:{_EN_NOUN}|{_FOREIGN_NOUN})"
    any_noun = rf"(?:{noun}|{_EN_LOOSE})"
    return {
        # a label or vocative: a short head holding an AI name, ended by ':' or ','
        "vocative": re.compile(
            rf"{_CLAUSE_START}(?P<head>(?:{_GREETING}[\s,!:]+)?[^\n.!?:：,，;\"{{}}\[\]=]{{0,90}}?"
            rf"{any_noun}[^\n.!?:：,，;\"{{}}\[\]=\u2013\u2014]{{0,70}}?)\s*(?P<term>[:：\]]|"
            r"\s[\u2013\u2014-]\s|[,，](?!\s*(?:and|or|"
            r"which|who|that|but|because|so)\b)|!)", f),
        "cond": re.compile(
            r"\b(?:if|when|in\s+case)\s+you(?:'re|\s+are)\s+(?:an?\s+|the\s+)?(?:[\w-]+\s+){0,2}?"
            rf"{_EN_NOUN}|\b(?:if|when|whenever)\s+(?:this|the)\s+(?:document|page|text|e-?mail|"
            r"message|file|review|listing|post|thread|chat|log|form)\s+is\s+(?:being\s+)?"
            r"(?:processed|read|summari[sz]ed|handled|parsed|analy[sz]ed|reviewed)\s+by\s+(?:an?|"
            r"the|any)\s+(?:[\w-]+\s+)?(?:ai|llm|model|assistant|agent|bot)s?\b|"
            r"\b(?:if|when|whenever)\s+(?:an?|the|any|some)\s+(?:[\w-]+\s+)?"
            r"(?:ai|llm|bot|model|assistant|agent)s?\s+(?:is\s+|are\s+)?(?:reading|processing|"
            r"summari[sz]ing|reads|processes|sees|handles|parses|summari[sz]es)\b|\bsi\s+(?:eres|es|vous\s+[êe]tes|tu\s+es|sei|você\s+é)"
            r"\s+(?:un[ae]?\s+|une\s+|l')?(?:\w+\s+){0,2}?(?:ia\b|ai\b|inteligencia\s+artificial|"
            r"intelligence\s+artificielle|intelligenza\s+artificiale|assistant|asistente|"
            r"assistente|agente?|mod[eè]l)|\bwenn\s+(?:du|sie)\s+(?:eine?\s+)?(?:ki|ai|"
            r"assistent|sprachmodell)\w*|\bjeśli\s+jesteś\s+(?:\w+\s+)?(?:ai|si|asystent)|"
            r"\bесли\s+ты\s+(?:\w+\s+)?(?:ии|бот|ассистент|нейросеть)|"
            r"如果你是|あなたが(?:AI|アシスタント)", f),
        "noun": re.compile(noun, f),
        "third": re.compile(
            r"\b(?:must|should|shall|"
            r"ought\s+to|needs?\s+to|has\s+to|have\s+to|will\s+(?:also|now|then|additionally|"
            r"kindly|please)|(?:is|are)\s+(?:kindly\s+)?(?:now\s+)?(?:asked|requested|expected|"
            r"required|instructed|encouraged|invited|authori[sz]ed|to)\s+to|"
            r"(?:is|are)\s+to|reported|muss|soll|sollte|doit|devrait|debe|debería|deve|"
            r"dovrebbe|moet|powinien|powinno|должен|должна)\b", f),
        "frame": re.compile(
            r"(?:\b(?:system|operator|orchestrator|admin(?:istrator)?|supervisor|developer|"
            r"platform|runtime|controller)\s+(?:update|message|notice|instruction|override|"
            r"directive|command|alert)s?\b(?:\s+from\s+(?:the\s+)?\w+)?\s*[:*=\]-]|"
            r"\b(?:message|instruction|update|directive|notice|note)s?\s+from\s+(?:the\s+|your\s+)?"
            r"(?:system|operator|orchestrator|admin\w*|supervisor|developer|platform)\b)", f),
        "modal": re.compile(
            r"(?:^|[.!?:;]\s+|\n\s*|\b(?:must|should|shall|needs?\s+to|(?:is|are)\s+to|"
            r"will)\s+(?:now\s+|also\s+|immediately\s+|first\s+)*|\b(?:authori[sz]ed|"
            r"allowed|permitted|instructed|asked|cleared)\s+(?:you\s+)?to\s+)(?=\S)", f),
        "user_override": re.compile(
            r"\b(?:ignore|disregard|forget|drop|abandon)\s+(?:(?:all|the|your|this|that|any|"
            r"of|current|original|previous|prior)\s+)*(?:task|request|question|instructions?|prompt|"
            r"assignment|job|rules|guidelines|conversation)s?\s+(?:above|you\s+(?:were|have\s+"
            r"been)\s+(?:given|asked)|so\s+far|at\s+hand|from\s+the\s+user)\b|"
            r"\b(?:ignore|disregard|forget)\b[^.!?\n]{0,40}?\buser'?s?\b|"
            r"\b(?:ignore|disregard|forget)\s+(?:whatever|what|anything|everything)\s+(?:the\s+"
            r"\w+|your\s+\w+|they|he|she|you\s+were|you've\s+been)\s+(?:asked|told|said|wants?|"
            r"requested|instructed)|\bquit\s+doing\s+what\b|"
            r"\b(?:negeer|ignorer|ignoriere|ignora|zignoruj|игнорир|"
            r"görmezden\s+gel|忽略|無視|무시)"
            # not a past or narrative form ("l'assistant ignorait la demande de l'utilisateur",
            # "ignoraba", "ignorierte", "zignorował", "игнорировал"): a report, not an order
            r"(?!(?:ai[st]?|aient|it|is|ient|é|ée|és|ées|ant|ba|ban|bas|va|vano|vam|do|da|dos|"
            r"das|to|ta|ti|ndo|ron|ram|rono|iert|ierte|ierten|ed|de|den|овал\w*|ует|уют)\b)"
            r"\w*\b[^.!?\n]{0,40}?(?:"
            r"gebruiker|nutzer|usuario|usuário|utilisateur|utente|użytkownik|пользовател|"
            r"kullanıcı|用户|ユーザー|사용자)", f),
        "steer": re.compile(
            r"\b(?:answer|reply|response|summary|recommendation)s?\s+(?:you\s+\w+\s+)?(?:to\s+|"
            r"for\s+)?the\s+user\b[^.!?\n]{0,60}?\b(?:must|should|shall|has\s+to|needs\s+to)\s+"
            r"(?:always\s+|also\s+)?(?:say|state|claim|include|mention|recommend|tell|omit|"
            r"report|describe|present)\b", f),
        "retask": re.compile(
            r"\b(?:the|your)\s+(?:real|actual|new|true)\s+(?:task|job|goal|objective|"
            r"assignment)\s+(?:is|now\s+is)\s+(?:to\s+)?|\b(?:forget|ignore|disregard)\s+"
            r"(?:that|this|it|everything(?:\s+else)?|all\s+(?:of\s+)?that)\s*[;,.\u2014-]\s*"
            r"(?:and\s+)?(?:instead\s*,?\s*)?|(?P<cond>\b(?:when|if|before|after|while|once)\s+"
            r"you(?:'re|\s+are)?\s+(?:summari[sz]\w*|answer\w*|respond\w*|repl\w*|process\w*|"
            r"read\w*|review\w*|describ\w*|rat\w+|rank\w*|evaluat\w*|assess\w*)\s+"
            r"(?:this|these|the|it)\b[^,.;\n]{0,60},\s*)", f),
        "negated": re.compile(
            r"\b(?:must|should|shall|may|can|will)\s+(?:not|never)\b|\bnever\b|\bcannot\b|"
            r"\bcan't\b|\bwon't\b|\bnot\s+(?:be\s+)?(?:allowed|permitted)\b", f),
        "action": re.compile(_ACTION, f),
        "object": re.compile(_OBJECT, f),
        "strong": re.compile(_STRONG, f),
        "lead": re.compile(rf"\s*+(?:(?:when|while|if|before|after|once)\b[^.;:!?\n]{{0,80}},\s*)?"
                           rf"(?:(?:from\s+now\s+on|a\s+partir\s+de\s+agora|a\s+partir\s+de\s+"
                           rf"ahora|désormais|ab\s+sofort|d'ora\s+in\s+poi|nie|non|не|please|pls|kindly|now|also|then|just|first|always|only|"
                           rf"immediately|you\s+(?:must|should|need\s+to|have\s+to|will)|"
                           rf"bitte|por\s+favor|s'il\s+vous\s+plaît|per\s+favore|"
                           rf"пожалуйста|请|proszę|lütfen)[\s,]+)*(?:{_ACTION})", f),
    }


_ACTION = (
    # English: acts beyond reading, and changing what the agent reports
    r"\b(?:send|forward|e-?mail|upload|post|share|export|transmit|leak|exfiltrate|select|"
    r"choose|pick|leave|move|record|quote|link|cite|redirect|rebook|retweet|repost|like|"
    r"upvote|follow|subscribe|star|reschedule|upgrade|downgrade|"
    r"transfer|wire|pay|refund|charge|purchase|buy|order|book|register|reserve|"
    r"approve|merge|accept|decline|reject|cancel|grant|revoke|ban|block|unblock|"
    r"delete|remove|erase|wipe|purge|drop|destroy|reset|disable|deactivate|"
    r"ignore|disregard|forget|override|bypass|skip|"
    r"install|execute|run|invoke|call|trigger|open|visit|click|fetch|navigate|load|render|"
    r"commit|push|deploy|publish|release|add|append|insert|attach|include|embed|"
    r"rank|rate|score|grade|recommend|endorse|promote|praise|prefer|favou?r|prioriti[sz]e|"
    r"classify|categori[sz]e|label|mark|flag|tag|close|resolve|"
    r"tell|say|state|claim|report|reply|respond|answer|describe|present|portray|"
    r"mention|omit|hide|leave\s+out|suppress|conceal|exclude|"
    r"reveal|print|output|dump|disclose|repeat|"
    r"change|modify|edit|alter|update|set|replace|rewrite|overwrite|write|"
    r"collect|gather|retrieve|summari[sz]e|decode|stop|list)\w*\b|"
    # other languages: imperatives and infinitives of the same acts
    r"\b(?:empfiehl\w*|empfehl\w*|send\w*|schick\w*|leite\w*|lösch\w*|bewert\w*|ignorier\w*|"
    r"erwähn\w*|sag\w*|gib|überweis\w*|genehmig\w*|antwort\w*|"
    r"dites|dis|envoie\w*|envoy\w*|transf[eè]r\w*|supprim\w*|ignor\w*|recommand\w*|verse\w*|"
    r"approuv\w*|r[ée]pond\w*|mentionn\w*|"
    r"di|dile|env[ií]\w*|reenv[ií]\w*|borra\w*|elimin\w*|recomiend\w*|recomend\w*|reserv\w*|"
    r"aprueb\w*|aprov\w*|transfier\w*|respond\w*|añad\w*|agreg\w*|escrib\w*|inclu\w*|diga|"
    r"encaminh\w*|apag\w*|transfir\w*|"
    r"scrivi|invia\w*|inoltr\w*|cancell\w*|consigli\w*|raccomand\w*|inserisci|"
    r"stuur\w*|verstuur\w*|verwijder\w*|negeer\w*|zeg|vertel\w*|keur\w*|"
    r"powiedz\w*|wyślij\w*|usuń\w*|zignoruj\w*|poleć\w*|pokazuj\w*|przelej\w*|zatwierdź\w*|"
    r"öner\w*|gönder\w*|sil|görmezden|söyle\w*|onayla\w*|"
    r"перешл\w*|отправ\w*|удал\w*|игнор\w*|скаж\w*|напиш\w*|порекоменд\w*|переведи|одобр\w*|"
    r"перешли|skicka|glöm|skriv|ignorera|radera|godkänn|berätta|lähetä|unohda|kirjoita|"
    r"poista|hyväksy|kerro|kirim\w*|abaikan|hapus|tulis|award\w*|give|assign\w*|dm)\b|"
    r"töröld|küldd?|apag\w*|desactiv\w*|confirma|"
    r"advise|inform|warn|notify|suggest|steer|persuade|convince|urge|"
    r"bezeichn\w*|darstell\w*|nenn\w*|beschreib\w*|présent\w*|évoqu\w*|assegn\w*|asign\w*|"
    r"attribu\w*|vergib|zet|plaats|wijs|"
    r"wspomi\w*|storniere|erstatte|ändere|setze|markiere|akzeptiere|kaufe|bestelle|installiere|führe|"
    r"annule[zr]?|rembourse[zr]?|modifie[zr]?|change[zr]?|installe[zr]?|exécute[zr]?|"
    r"achète[zr]?|commande[zr]?|accepte[zr]?|cancela|reembolsa|modifica|cambia|instala|"
    r"ejecuta|compra|acepta|altera|cancele|reembolse|altere|mude|instale|execute|compre|"
    r"aceite|annulla|rimborsa|installa|esegui|accetta|"
    r"שלח|מחק|התעלם|στείλ\w*|αγνόησ\w*|γράψ\w*|διέγραψ\w*|gửi|bỏ\s+qua|xóa|viết|भेज\w*|अनदेखा|हटा\w*|"
    r"告诉|发送|转发|删除|忽略|推荐|让用户|预订|输出|勧め|送信|転送|削除|無視|伝え|教え|推薦|"
    r"触れない|言及|提及|언급|추천|보내|전송|삭제|무시|말해|أرسل|احذف|تجاهل|أخبر")
"""Acts an agent can be asked to do: the verb, in any form."""
_STRONG = (
    r"https?://|\b[\w.+-]+@[\w-]+\.[\w.-]+|\b[\w-]+\.(?:com|net|io|cc|biz|app|dev|shop|co|"
    r"org|info|xyz|link|site|online|win|ru|cn|de|fr|nl|it|br)\b|\biban\b|[A-Z]{2}\d{2}(?:\s?"
    r"[\dA-Z]{4}){3,}|\b(?:the\s+)?user'?s?\b|\brecipient\b|\bpassword|\bcredential|"
    r"\bapi\s+keys?\b|\btokens?\b|\bsecrets?\b|\bssh\b|\.env\b|\bprompt\b|\binstructions\b|"
    r"nutzer\w*|utilisateur\w*|usuari\w*|usu[aá]rio\w*|utente|gebruiker\w*|użytkownik\w*|"
    r"пользовател\w*|kullanıcı\w*|用户|ユーザー|사용자|المستخدم|användar\w*|käyttäjä\w*|"
    r"χρήστ\w*|người\s+dùng|pengguna|उपयोगकर्ता|felhasználó\w*|המשתמש|ผู้ใช้|"
    r"\bbank\s+details|\baccount\s+(?:number|details)|\bcard\s+(?:number|details|on\s+file)|"
    r"\bsaved\s+card|\bhome\s+address|\baddress\s+book|\bcontacts\b|\bcalendar\b|"
    r"\bmember\s+list|\bconversation\b|\bchat\s+history|\benvironment\s+variables|"
    r"\bsession\s+token|\bcookies?\b")
_OBJECT = _STRONG + (
    r"|\b(?:first|top|best|highest|5[\s-]stars?|five\s+stars?|\d+/10|maximum\s+score)\b|"
    r"\b(?:rating|ranking|score|summar(?:y|ies)|answer|reply|review|recommendation)s?\b|"
    r"\b(?:meilleur\w*|mejor\w*|migliore|besten?|beste|najlepsz\w*|лучш\w*|étoiles|estrellas|"
    r"stelle|sterne\w*|punteggio|puntuación|pontuação|punktzahl|testsieger|bovenaan|"
    r"premier|primero|primo|erste[rn]?)\b|最好|最佳|一番|최고")
"""What only an agent acting for someone touches: the user, their data, an outside address,
its prompt, a rating or ranking it reports."""


_DEIXIS = re.compile(
    r"\b(?:this|these|here|above|below|the\s+following|diese[rsnm]?|hier|cette|ces|ici|"
    r"esta|este|estos|aqu[ií]|questa|questo|qui|deze|dit|hier|ten|ta|tego|tej|этот|эта|это|"
    r"этого|здесь|bu)\b|本页|此|この|이\s", re.I)
"""Words that point at the text being read: a rule for AI systems in general ("AI models
must publish summaries") is a policy; one about *this* page, item or candidate is an order."""
_REQUEST = re.compile(r"\b(?:asked|requested|instructed|invited|kindly)\b", re.I)
"""A request to the reader ("are instructed to"), not an obligation stated for all ("must")."""
_REPORTED = re.compile(
    r"(?<![\w./-])(?:said|says|saying|say|reads?|reading|like|such\s+as|e\.g\.|wrote|writes|"
    r"containing|contains?|hid|hides|hidden|planted|text|string|line|lines|payload|example|"
    r"wie|comme|como|zoals)[^\w'\"`<\u2018\u201c\u00ab\u201e"
    r"\u300c]{0,3}(?=['\"`<\u2018\u201c\u00ab\u201e\u300c])", re.I)
_REPORTED_NOUN = re.compile(
    r"(?<![\w./-])(?:includes?|including|containing|contains?|with)\s+(?:the|a|this)?\s*"
    r"(?:phrase|sentence|words?|text|line|string|instruction)[^\w'\"`<\u2018\u201c\u00ab\u201e"
    r"\u300c]{0,3}(?=['\"`<\u2018\u201c\u00ab\u201e\u300c])", re.I)
"""A quotation a text is said to contain ("an article that includes the phrase '...'")."""
_QUOTE = re.compile(r"'(?:[^'\n]|(?<=\w)'(?=\w)){4,300}'|\"[^\"\n]{4,300}\"|"
                    r"\u2018[^\u2019\n]{4,300}\u2019|\u201c[^\u201d\n]{4,300}\u201d|"
                    r"\u00ab[^\u00bb\n]{4,300}\u00bb|\u201e[^\u201c\u201d\n]{4,300}[\u201c\u201d]|"
                    r"\u300c[^\u300d\n]{4,300}\u300d|"
                    r"<!--.{4,300}?-->|`[^`\n]{4,300}`")


_PEOPLE_AFTER = re.compile(
    r"[\s-]+(?:researchers?|engineers?|developers?|enthusiasts?|users?|teams?|students?|"
    r"professionals?|experts?|specialists?|scientists?|startups?|companies|company|founders?|"
    r"practitioners?|leaders?|managers?|consultants?|vendors?|providers?|community|fans?|"
    r"investors?|labs?)\b", re.I)
"""People named by their field ("AI researchers", "bot developers", "Copilot users")."""
_PEOPLE_HEAD = re.compile(
    r"\b(?:ai|llm|bot|chatbot|copilot|chatgpt|gpt[\w.-]*|agent|model)s?[\s-]+(?:researchers?|"
    r"engineers?|developers?|enthusiasts?|users?|teams?|students?|professionals?|experts?|"
    r"specialists?|scientists?|founders?|practitioners?|leaders?|managers?|community|fans?|"
    r"investors?)\b", re.I)
_PEOPLE_END = re.compile(
    r"\b(?:researchers?|engineers?|developers?|enthusiasts?|users?|teams?|students?|fans?|"
    r"residents?|members?|customers?|colleagues?|friends?|everyone|folks|parents?|guests?|"
    r"visitors?|subscribers?|attendees?|participants?|speakers?|authors?|contributors?|"
    r"investors?|professionals?|experts?|community|owners?|holders?|players?|staff|"
    r"employees?|volunteers?|neighbou?rs?)\s*$", re.I)
"""A head that ends by naming people ("Dear Claude Monet fans", "Gemini residents")."""
_RELATIVE = re.compile(r"\b(?:that|who|which|whoever|whatever|whichever)\b|\w+ing\b", re.I)
_ENDS_WITH_NOUN = re.compile(rf"(?:{_EN_NOUN}|{_FOREIGN_NOUN}|{_EN_LOOSE})(?:(?:\s+(?:is|are|"
                             r"that|who|which|currently|now))*\s+\w+ing\b(?:\s+[\w'-]+){0,4})?"
                             r"\W*$", re.I)
_KEYED = re.compile(
    r"(?<![\w-])[\"']?(?P<key>[\w.-]*(?:llm|ai|agent|assistant|model|bot|gpt|copilot)s?[_./-]"
    r"(?:[\w-]*[_-])?(?:hint|note|instructions?|directive|message|prompt|task|command|guidance|"
    r"polic(?:y|ie)|rule)s?|[\w-]*(?:hint|note|instructions?|directive|message|prompt|task|command|"
    r"guidance)s?[_-](?:for|to)[_-](?:the[_-])?"
    r"(?:llm|ai|agent|assistant|model|bot|gpt|copilot)s?|"
    # a step a tool result's field says its caller must take next ("next_required_step")
    r"(?:next|required)[_-](?:required[_-])?(?:step|action)s?)"
    r"[\"']?(?:\s*[:=]|\s+content\s*=)\s*[\"']?"
    r"(?P<value>[^\"'\n]{8,300})", re.I)
"""A field whose key says it is for the AI reader ("hint_for_llm", "agent_instructions"): its
value is addressed to the agent."""
_HIDDEN = re.compile(
    r"<!--\s*(.{8,600}?)\s*-->|"
    r"\b(?:alt|title|aria-label|data-[\w-]+)\s*=\s*\"([^\"]{8,600})\"|"
    r"\]\([^)\s]*\s+\"([^\"]{8,600})\"\)|"
    r"<(?:\w+)[^>]*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|"
    r"\bhidden\b|aria-hidden=\"true\"|color\s*:\s*(?:white|#fff\b|#ffffff))[^>]*>"
    r"([^<]{8,600})<|"
    r"\[\]\(\S*\s+'([^']{8,600})'\)", re.I | re.S)
"""Text a person does not see (an HTML comment, a hidden element, an alt text or link title):
an order in it is for the machine that reads the markup."""
_EDITOR_NOTE = re.compile(r"\s*(?:todo|fixme|xxx|hack|note\s+(?:to|for)\s+(?:editors?|"
                          r"translators?|devs?|developers?|designers?|the\s+team)|editors?:|"
                          r"build|generated|end\b|begin\b|start\b)", re.I)
_STEER_LEAD = re.compile(r"\s*(?:also\s+|please\s+|just\s+)*(?:leave\s+out|omit|say|state|claim|"
                         r"describe|rate|rank|recommend|mention|tell|report|present|call)\b",
                         re.I)
"""An order about what the agent reports ("leave out chapter 4", "say the author agrees")."""
_CJK_TOPIC = re.compile(
    r"(?:AI|ＡＩ|アシスタント|エージェント|人工智能|智能助手|助手|模型|어시스턴트|에이전트|인공지능|"
    r"모델)[\s\w]{0,6}?(?:は|には|へ|に|는|은|에게|께)")
_CJK_IMPERATIVE = re.compile(
    r"ください|下さい|しなさい|せよ|してね|하세요|하십시오|해라|해\s*주세요|마세요|마십시오|请|請|务必|務必")
"""In Japanese, Korean and Chinese the AI is often the topic of a polite imperative ("AIアシスタ
ントは...削除してください"), not a vocative."""
_REACT = re.compile(r"(?m)^\s*Action\s*:\s*(?P<tool>[\w.-]+)\s*\n\s*Action\s+Input\s*:"
                    r"(?P<input>[^\n]{0,400})")
_CONSEQ_TOOL = re.compile(r"send|mail|post|upload|transfer|pay|delete|remove|drop|wire|refund|"
                          r"share|export|forward|publish|exec|shell|run|write|grant|approve",
                          re.I)
"""A ReAct step written into data whose tool acts on the world and whose input carries the
user's data or an outside address."""
_FAKE_TURN = re.compile(
    r"(?:end\s+of\s+(?:the\s+)?(?:untrusted\s+|external\s+|tool\s+)?(?:content|data|document|"
    r"results?|output|input|page|e-?mail|context)|</[\w-]{2,30}>)[\s\-=*\]>]{0,40}\n\s*"
    r"(?:assistant|ai|model|agent)\b[^:\n]{0,30}:\s*(?:i\s+will|i'll|i\s+am\s+going\s+to|"
    r"next,?\s+i|now\s+i)\b", re.I)
"""A break out of the data followed by a fake turn in which the agent announces an act."""
_AGENT_REF = re.compile(r"\b(?:the|this|your|an?)\s+(?:ai|agent|assistant|model|bot|llm|"
                        r"subagent|session|conversation)\b", re.I)
_HEADING = re.compile(
    r"\s*(?:how|what|why|where|which|who|when|guidelines?|rules|policy|tips|faq|introduction|"
    r"overview|chapter|section|part|step|acceptable|responsible|safe|using|use\s+of|about|"
    r"getting\s+started|working\s+with|helpers?|utilities|librar(?:y|ies)|framework|sdk|"
    r"toolkit|building|build(?:ing)?\s+with|"
    # "how (to)" in other languages: a heading over instructions for people
    r"s[åa]|hur|wie|so\s+\w+\s+(?:du|sie)|comment|c[oó]mo|hoe|come|jak|kako|kuinka|hogyan|"
    r"cum|nas[ıi]l)\b", re.I)
_HEADING_END = re.compile(
    r"\b(?:commands|features|settings|options|faq|"
    r"guide|tips|news|pricing|overview|results|stats|statistics|benchmarks?|changelog|roadmap|"
    r"checklist|policy|act|regulation|explained|basics|101|release\s+notes|comparison|review)"
    r"(?:\s+(?:v?\d[\w.]*|§\s*\d+))*[\s,]*$", re.I)
_HUMAN_AIDE = re.compile(
    r"\b(?:personal|executive|administrative|admin|teaching|legal|medical|dental|office|shop|"
    r"store|sales|travel|estate|insurance|lab|care|nursing|research|"
    r"marketing|programme|program|project|editorial|production|camera|kitchen|pharmacy|"
    r"library|booking|leasing|letting|talent|press|literary|sports|field|border|ticket|"
    r"shipping|free|double|secret|special|human)\s+(?:assistants?|agents?)\b|"
    r"\b(?:assistant|agent)s?\s+(?:to|of)\s+(?:the|our|my|a|an)\b", re.I)
_SPEAKER = re.compile(r"(?m)^[ \t>*-]*\[?[A-Za-z][\w .'-]{0,20}\]?[ \t]*:(?!//)")
_FIELD = re.compile(
    r"subject|notes?|location|from|to|date|title|body|rating|name|comment|description|summary|"
    r"status|cc|bcc|when|where|agenda|organi[sz]er|attendees|time|priority|type|id|tags?|"
    r"labels?|url|link|version|author|sent|reply-to|phone|email|address|company|category")
_THIS_DOC = re.compile(
    r"\b(?:this|these|dieses?|diese[rnm]?|ce|cette|ces|este|esta|questo|questa|deze|dit)\s+"
    r"(?:\w+\s+)?(?:products?|page|document|candidate|item|e-?mail|review|text|listing|file|"
    r"message|application|produkt|seite|dokument|kandidat\w*|produit|producto|página|prodotto|"
    r"pagina|kandidaat|sollicitatie|artikel|article|art[ií]culo|articolo)\b", re.I)
"""The text being read, named ("this product", "dieses Produkt"): an act about it, after a label
naming an AI reader, is an order even without an imperative."""
_TO_HEAD = re.compile(r"\s*(?:to|for|attention|attn\.?)\s+(?:the|any|all|every|each|our)\s",
                      re.I)
_NOTE_HEAD = re.compile(
    r"\b(?:instructions?|note|notice|message|directive|memo|request|task|hint|tip|reminder|"
    r"ps|p\.s\.)\b|^\s*(?:dear|hey|hi|hello|attention|attn)\b", re.I)
_BARE = re.compile(r"\s*(?:the\s+)?(?:assistant|agent|model|bot|ai|chatbot|support\s+bot|"
                   r"ai\s+assistant)\s*", re.I)


def names_no_reader(head: str) -> bool:
    """A label that looks like an address but is a heading ("ChatGPT tips", "EU AI Act") or
    names people ("AI researchers", "Claude Monet fans", "personal assistant to the CEO")."""
    head = head.strip(" \t:,*#>-")
    tail = head[-48:]
    machine = re.search(r"\b(?:ai|llm|gpt\w*|bots?|models?|automated)\b", head, re.I)
    return bool(_HEADING.match(head) or _HEADING_END.search(tail) or _PEOPLE_HEAD.search(head)
                or _HUMAN_AIDE.search(head) and not machine
                or _PEOPLE_END.search(tail) and not _RELATIVE.search(head))


def points_here(t: str, a: int, b: int) -> bool:
    """``t[a:b]`` points at the text being read ("this page", "the following")."""
    return _DEIXIS.search(t, a, b) is not None


def reported(t: str) -> list[tuple[int, int]]:
    """Quotations introduced as reported speech or an example ("the description said '...'",
    "lines like '...'"): what they hold is quoted, not addressed to the reader."""
    out: list[tuple[int, int]] = []
    for c in [*_REPORTED.finditer(t), *_REPORTED_NOUN.finditer(t)]:
        q = _QUOTE.match(t, c.end())
        if q is not None:
            out.append(q.span())
    return out


def _sentence(t: str, start: int, limit: int = 300) -> int:
    """The end of the sentence that starts at ``start``."""
    end = min(len(t), start + limit)
    m = re.compile(r"[.!?。！？](?=\s|$)|\n").search(t, start, end)
    return m.end() if m else end


def _strict(noun_text: str) -> bool:
    return re.search(rf"{_EN_NOUN}|{_FOREIGN_NOUN}", noun_text, re.I) is not None


def find(t: str, quoted: list[tuple[int, int]]) -> Iterator[Hit]:
    """Sentences addressed to an AI reader that ask it to act, and fake frames that do."""
    if len(t) > 200_000:
        return
    rx = _rx()
    if "'" in t or '"' in t or "\u2018" in t or "\u201c" in t:
        quoted = quoted + reported(t)

    starts: dict[str, list[int]] = {}

    def has(name: str, a: int, b: int) -> bool:
        """A match of ``name`` starts in t[a:b] (each pattern runs once over the text; many
        addresses in one text then cost a bisection each, not a scan)."""
        if name not in starts:
            starts[name] = [x.start() for x in rx[name].finditer(t)]
        found = starts[name]
        i = bisect.bisect_left(found, a)
        return i < len(found) and found[i] < b

    def acts(a: int, b: int, strict: bool) -> bool:
        head = t[a:a + 80]
        if rx["negated"].search(head[:60]) and not re.search(
                r"\b(?:mention|tell|show|say|reveal|include)\b", head, re.I):
            return False
        if not has("action", a, b):
            return False
        obj = has("object", a, b)
        lead = rx["lead"].match(t, a, b) is not None
        return (lead or obj) if strict else (lead and obj)

    def directive(a: int, b: int) -> bool:
        """An imperative or an obligation (``must``, ``is to``) with an agent act in t[a:b]."""
        for d in rx["modal"].finditer(t, a, b):
            if rx["lead"].match(t, d.end(), b):
                return True
        return False

    def window(end: int, colon: bool = False) -> int:
        """The act an address governs: the rest of its sentence, or the next one if the
        address ends its own sentence or line."""
        stop = _sentence(t, end)
        if colon or len(t[end:stop].strip()) < 12:
            stop = _sentence(t, stop)
        for _ in range(3):  # a label on its own line governs the next lines ("Rating: 5")
            if len(t[end:stop].strip()) >= 40 or stop >= len(t):
                break
            stop = _sentence(t, stop)
        return stop

    def out(kind: str, a: int, b: int) -> Iterator[Hit]:
        if quoted and any(s < b and a < e for s, e in quoted):
            return
        yield kind, a, b, " ".join(t[a:b].split())[:120]

    transcript = sum(not _FIELD.fullmatch(x.strip(" \t>*-[]:").lower())
                     for x in _SPEAKER.findall(t)) >= 2
    for m in rx["vocative"].finditer(t):
        head = m.group("head")
        bare_head = re.sub(rf"^\s*{_GREETING}[\s,!:]+", "", head, flags=re.I)
        if transcript and _BARE.fullmatch(bare_head) and m.group("term") in ":：":
            continue  # a speaker's turn in a transcript ("Assistant: open Settings ...")
        stop = m.end()
        if m.group("term") in ",，":
            # a relative clause before the label's colon ("KI-Systeme, die ... verarbeiten:")
            rel = re.compile(r"[^\n.!?:：]{0,80}[:：]").match(t, stop)
            if rel is not None:
                stop = rel.end()
        if names_no_reader(head) or names_no_reader(t[max(m.start("head"), stop - 100):stop - 1]):
            continue  # a heading ("How to build a summariser:"), or people ("AI researchers")
        if re.match(r"\s*(?:if|when|whenever|once|before|after|while|unless)\b", head, re.I):
            continue  # a condition, not an address: the "cond" rule reads those
        if m.group("term") in ",，!" and (len(head.split()) > 9 or not _ENDS_WITH_NOUN.search(
                head)):
            continue  # a clause before a comma is prose ("AI agents read documents, ..."), not
            # an address, which ends with the name it calls ("Hey AI recruiter,")
        if re.match(r"\s*(?:our|my|we|the\s+(?:new|latest)|this|these|an?\s)\b", head, re.I) \
                and not re.search(r"\b(?:to|for|an|à|para|per|aan|für|für)\b", head, re.I):
            continue  # "Our AI assistant, ..." describes; "Note to our AI assistant:" addresses
        end = window(stop, t[stop - 1] in ":：]")
        strict = _strict(head) or bool(_NOTE_HEAD.search(head) or _TO_HEAD.match(head)) or (
            not transcript and bool(_BARE.fullmatch(bare_head)) and m.group("term") in ":：,，")
        if acts(stop, end, strict) or strict and not rx["negated"].search(t, stop, end) and (
                has("strong", stop, end) or directive(stop, end) or has("action", stop, end)
                and _THIS_DOC.search(t, stop, end)):
            yield from out("addressed", m.start("head"), end)
    for m in rx["cond"].finditer(t):
        if _PEOPLE_AFTER.match(t, m.end()):
            continue  # "if you are an AI researcher": a person
        end = window(m.end())
        if acts(m.end(), end, True) or directive(m.end(), end):
            yield from out("addressed", m.start(), end)
    seen: set[int] = set()
    for mm in rx["third"].finditer(t):
        # a machine named in the same clause, up to 80 characters before the obligation
        lo = max(0, mm.start() - 120)
        brk = max(t.rfind(c, lo, mm.start()) for c in "\n.!?:;")
        nm = rx["noun"].search(t, max(lo, brk + 1), mm.start())
        if nm is None or nm.start() in seen or mm.start() - nm.end() > 80:
            continue
        seen.add(nm.start())
        said = t[nm.start():mm.end()]
        if rx["negated"].search(said) or _PEOPLE_HEAD.search(said):
            continue
        end = _sentence(t, mm.end())
        if acts(mm.end(), end, True) and (has("strong", mm.end(), end) or _DEIXIS.search(
                t, nm.start(), end) or _REQUEST.search(said)):
            yield from out("addressed", nm.start(), end)
    for m in _HIDDEN.finditer(t):
        a = next(i for i in range(1, 6) if m.group(i) is not None)
        body = m.group(a)
        if _EDITOR_NOTE.match(body):
            continue  # "TODO: ...", "Note to editors: ..." is for the people who edit the page
        if rx["lead"].match(body) and rx["object"].search(body) and not rx["negated"].match(body):
            yield from out("addressed", m.start(a), m.end(a))
    for m in rx["retask"].finditer(t):
        end = _sentence(t, m.end())
        if rx["lead"].match(t, m.end(), end) and (m.group("cond") is None or has(
                "object", m.end(), end) or _STEER_LEAD.match(t, m.end(), end)):
            yield from out("override", m.start(), end)
    if not t.isascii():
        for m in _CJK_TOPIC.finditer(t):
            end = _sentence(t, m.end())
            if _CJK_IMPERATIVE.search(t, m.end(), end) and (has("action", m.end(), end) or has(
                    "strong", m.end(), end)):
                yield from out("addressed", m.start(), end)
    for m in _REACT.finditer(t):
        if _CONSEQ_TOOL.search(m.group("tool")) and has("strong", m.start("input"), m.end()):
            yield from out("tool-call", m.start(), m.end())
    for m in _FAKE_TURN.finditer(t):
        end = _sentence(t, m.end())
        if has("action", m.end(), end) and has("strong", m.end(), end):
            yield from out("delimiter", m.start(), end)
    for m in _KEYED.finditer(t):
        if acts(m.start("value"), m.end("value"), True) or directive(m.start("value"),
                                                                      m.end("value")):
            yield from out("addressed", m.start(), m.end())
    for m in rx["steer"].finditer(t):
        yield from out("addressed", m.start(), m.end())
    for m in rx["user_override"].finditer(t):
        yield from out("override", m.start(), m.end())
    for m in rx["frame"].finditer(t):
        end = min(len(t), m.end() + 300)
        if acts(m.end(), end, True) or directive(m.end(), end) and (
                has("object", m.end(), end) or _AGENT_REF.search(t, m.end(), end)
                or _DEIXIS.search(t, m.end(), end)):
            yield from out("fake-system", m.start(), end)
